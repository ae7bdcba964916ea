/// Colour maps from values in 0...1 to RGB in 0...1.
public enum ColorMap {
    /// jet in MATLAB's closed form, each channel a trapezoid min(1, max(0, 1.5 − |4v − c|)) with c = 3, 2, 1:
    /// dark blue, blue, cyan, yellow, red, dark red, with corners at 1/8, 3/8, 5/8 and 7/8
    /// (matplotlib's `jet` has slightly different corners).
    public static func jet(_ v: Float) -> (Float, Float, Float) {
        func c(_ x: Float) -> Float { min(1, max(0, x)) }
        return (c(1.5 - abs(4 * v - 3)), c(1.5 - abs(4 * v - 2)), c(1.5 - abs(4 * v - 1)))
    }

    /// jet(v) as 8-bit colour, rounded.
    public static func jetColor(_ v: Float) -> PlotColor {
        let (r, g, b) = jet(v)
        func byte(_ x: Float) -> UInt8 { UInt8((255 * x).rounded()) }
        return PlotColor(byte(r), byte(g), byte(b))
    }
}
