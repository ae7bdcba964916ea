import CKernels
#if canImport(Glibc)
import Glibc
#endif

/// How Heidelberg's linear float intensities become uint8.
public enum IntensityTransform: String, Sendable, CaseIterable, Codable {
    /// round(v^0.25 · 255), as Heyex displays B-scans (the default).
    case fourthRoot = "fourth-root"
    /// eyepy's `from_vol_intensity`: round(255 · clip((ln(v + 2.44e-4) + 8.3) / 8.285, 0, 1)).
    case log

    /// The exact definition, in double precision, for one value. Invalid (FLT_MAX), negative and
    /// NaN values map to 0; values above 1 to 255.
    public func reference(_ value: Float) -> UInt8 {
        if value.isNaN || value <= 0 || value.bitPattern == 0x7F7F_FFFF { return 0 }
        let v = Double(value)
        let scaled: Double
        switch self {
        case .fourthRoot: scaled = v.squareRoot().squareRoot() * 255
        case .log: scaled = min(1, max(0, (Glibc.log(v + 2.44e-4) + 8.3) / 8.285)) * 255
        }
        return UInt8(min(255, max(0, (scaled + 0.5).rounded(.down))))
    }

    /// Converts floats to uint8 exactly as ``reference(_:)`` does, through a table over the top 16
    /// bits of the float (about 1 ns per value instead of a pow or log call).
    /// Also returns the range of the values that are neither NaN nor the invalid marker.
    @discardableResult
    public func convert(_ input: UnsafeRawPointer, count: Int, into output: UnsafeMutablePointer<UInt8>) -> ClosedRange<Float>? {
        let table = self == .fourthRoot ? IntensityTable.fourthRoot : IntensityTable.log
        return table.convert(input, count: count, into: output)
    }
}

/// For positive floats the bit pattern orders like the value, and both transforms are monotonic,
/// so within a bucket of 2^16 consecutive patterns the output rises by at most one step. Each
/// bucket's entry packs its first output (bits 24-31) and the offset in the bucket where the output
/// steps up (bits 0-16, 0x10000 for no step). Built once per transform; checked exact when built.
final class IntensityTable: Sendable {
    static let fourthRoot = IntensityTable(.fourthRoot)
    static let log = IntensityTable(.log)

    let entries: [UInt32]
    /// False when some bucket steps more than once (then the exact function is used throughout).
    let isExact: Bool
    private let transform: IntensityTransform
    private static let buckets = 0x7F80 + 1

    init(_ transform: IntensityTransform) {
        self.transform = transform
        var entries = [UInt32](repeating: 0x10000, count: Self.buckets)
        var exact = true
        for bucket in 0..<Self.buckets {
            let lo = UInt32(bucket) << 16, hi = min(lo | 0xFFFF, 0x7F7F_FFFE)
            let first = transform.reference(Float(bitPattern: lo))
            let last = transform.reference(Float(bitPattern: hi))
            var offset: UInt32 = 0x10000
            if Int(last) == Int(first) + 1 {
                var low = lo, high = hi  // the first pattern with output first + 1 lies in (low, high]
                while high - low > 1 {
                    let mid = low + (high - low) / 2
                    if transform.reference(Float(bitPattern: mid)) > first { high = mid } else { low = mid }
                }
                offset = high - lo
            } else if last != first {
                exact = false
            }
            entries[bucket] = UInt32(first) << 24 | offset
        }
        self.entries = entries
        isExact = exact
    }

    /// Converts `count` floats and returns the range of the values that are neither NaN nor the
    /// invalid marker (nil when there is none).
    @discardableResult
    func convert(_ input: UnsafeRawPointer, count: Int, into output: UnsafeMutablePointer<UInt8>) -> ClosedRange<Float>? {
        var low = Float.infinity, high = -Float.infinity
        if isExact {
            entries.withUnsafeBufferPointer { table in
                mims_float_table_convert(input.assumingMemoryBound(to: UInt8.self), output, count, table.baseAddress, &low, &high)
            }
        } else {
            for i in 0..<count {
                let bits = UInt32(littleEndian: input.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))
                let value = Float(bitPattern: bits)
                output[i] = transform.reference(value)
                if !value.isNaN && bits != 0x7F7F_FFFF { low = min(low, value); high = max(high, value) }
            }
        }
        return low <= high ? low...high : nil
    }
}
