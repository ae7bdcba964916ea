/// A pointer handed to parallel workers that each touch disjoint elements of the memory it
/// points to (the caller keeps the memory alive and the parts apart).
public struct SendablePointer<T>: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<T>
    public init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
    public init(_ pointer: UnsafePointer<T>) { self.pointer = UnsafeMutablePointer(mutating: pointer) }
}

extension SendablePointer where T == UInt8 {
    /// Untyped memory seen as bytes.
    public init(raw pointer: UnsafeMutableRawPointer) { self.pointer = pointer.assumingMemoryBound(to: UInt8.self) }
    public init(raw pointer: UnsafeRawPointer) { self.init(raw: UnsafeMutableRawPointer(mutating: pointer)) }
    /// The same memory as a raw pointer.
    public var address: UnsafeMutableRawPointer { UnsafeMutableRawPointer(pointer) }
}
