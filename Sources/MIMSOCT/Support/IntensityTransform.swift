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
    public func convert(_ input: UnsafeRawPointer, count: Int, into output: UnsafeMutablePointer<UInt8>) {
        let table = self == .fourthRoot ? IntensityTable.fourthRoot : IntensityTable.log
        table.convert(input, count: count, into: output)
    }
}

/// For positive floats the bit pattern orders like the value, and both transforms are monotonic,
/// so within a bucket of 2^16 consecutive patterns the output rises by at most one step (checked
/// when the table is built; buckets where it rises more fall back to the exact function).
final class IntensityTable: Sendable {
    static let fourthRoot = IntensityTable(.fourthRoot)
    static let log = IntensityTable(.log)

    private let base: [UInt8]
    private let step: [UInt32]   // first pattern in the bucket whose output is base + 1
    private let exact: [Bool]    // false: compute this bucket with the reference function
    private let transform: IntensityTransform
    private static let buckets = 0x7F80 + 1

    init(_ transform: IntensityTransform) {
        self.transform = transform
        var base = [UInt8](repeating: 0, count: Self.buckets)
        var step = [UInt32](repeating: .max, count: Self.buckets)
        var exact = [Bool](repeating: true, count: Self.buckets)
        for bucket in 0..<Self.buckets {
            let lo = UInt32(bucket) << 16, hi = min(lo | 0xFFFF, 0x7F7F_FFFE)
            let first = transform.reference(Float(bitPattern: lo))
            let last = transform.reference(Float(bitPattern: hi))
            base[bucket] = first
            if last == first { continue }
            if last != first + 1 {
                exact[bucket] = false
                continue
            }
            var low = lo, high = hi  // smallest pattern with output first + 1 lies in (low, high]
            while high - low > 1 {
                let mid = low + (high - low) / 2
                if transform.reference(Float(bitPattern: mid)) > first { high = mid } else { low = mid }
            }
            step[bucket] = high
        }
        self.base = base
        self.step = step
        self.exact = exact
    }

    func convert(_ input: UnsafeRawPointer, count: Int, into output: UnsafeMutablePointer<UInt8>) {
        base.withUnsafeBufferPointer { base in
            step.withUnsafeBufferPointer { step in
                exact.withUnsafeBufferPointer { exact in
                    for i in 0..<count {
                        let bits = UInt32(littleEndian: input.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))
                        // Negative values, NaN and the invalid marker FLT_MAX (0x7F7FFFFF) are 0.
                        if bits >= 0x7F7F_FFFF {
                            output[i] = bits == 0x7F80_0000 ? 255 : 0
                            continue
                        }
                        let bucket = Int(bits >> 16)
                        if exact[bucket] {
                            output[i] = base[bucket] &+ (bits >= step[bucket] ? 1 : 0)
                        } else {
                            output[i] = transform.reference(Float(bitPattern: bits))
                        }
                    }
                }
            }
        }
    }
}
