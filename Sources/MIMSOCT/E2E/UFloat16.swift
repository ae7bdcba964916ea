/// Heidelberg's unsigned 16-bit float of E2E B-scans: 6-bit exponent, 10-bit mantissa,
/// value = (1 + m/1024) · 2^(e − 63).
public enum UFloat16 {
    public static func value(_ bits: UInt16) -> Double {
        let mantissa = Double(bits & 0x3FF), exponent = Int(bits >> 10)
        return (1 + mantissa / 1024) * pow2(exponent - 63)
    }

    private static func pow2(_ n: Int) -> Double { Double(sign: .plus, exponent: n, significand: 1) }

    /// uint8 for every 16-bit pattern under `transform` (the same rule as .vol floats).
    static func table(_ transform: IntensityTransform) -> [UInt8] {
        (0...0xFFFF).map { transform.reference(Float(value(UInt16($0)))) }
    }

    static let fourthRootTable = table(.fourthRoot)
    static let logTable = table(.log)
}
