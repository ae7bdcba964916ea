/// An 8-bit RGB colour of a chart.
public struct PlotColor: Equatable, Sendable {
    public var r: UInt8, g: UInt8, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }
    public static let white = PlotColor(255, 255, 255), black = PlotColor(0, 0, 0), grid = PlotColor(225, 225, 225), axis = PlotColor(60, 60, 60)
    /// Distinguishable series colours (Tableau 10).
    public static let series = [PlotColor(31, 119, 180), PlotColor(255, 127, 14), PlotColor(44, 160, 44), PlotColor(214, 39, 40),
                                PlotColor(148, 103, 189), PlotColor(140, 86, 75), PlotColor(227, 119, 194), PlotColor(127, 127, 127)]
}
