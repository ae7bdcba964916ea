import Foundation

/// A line chart with axes, ticks, grid, axis labels, a title, a legend and optional bands, drawn as SVG
/// (LineChart+SVG.swift); ``SVGRasterizer`` makes its PNG.
public struct LineChart: Sendable {
    public struct Series: Sendable {
        public var name: String
        public var points: [(Double, Double)]
        public var dashed: Bool
        public var markers: Bool
        /// A colour of its own (a mean line); nil takes the next of ``PlotColor/series``.
        public var color: PlotColor?
        /// A shaded area around the line, such as mean ± sd over seeds: (x, low, high) per point.
        public var band: [(x: Double, low: Double, high: Double)]

        public init(name: String, points: [(Double, Double)], dashed: Bool = false, markers: Bool = false,
                    color: PlotColor? = nil, band: [(x: Double, low: Double, high: Double)] = []) {
            self.name = name
            self.points = points
            self.dashed = dashed
            self.markers = markers
            self.color = color
            self.band = band
        }
    }

    /// How opaque a band is drawn over the white plot.
    static let bandOpacity = 0.22

    /// The colour series `index` is drawn in.
    func color(of index: Int) -> PlotColor {
        series[index].color ?? PlotColor.series[index % PlotColor.series.count]
    }

    /// Every x and y the chart must show, bands included.
    var extent: (x: [Double], y: [Double]) {
        (series.flatMap { $0.points.map(\.0) + $0.band.map(\.x) },
         series.flatMap { $0.points.map(\.1) + $0.band.flatMap { [$0.low, $0.high] } })
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    /// Fixed axis ranges; nil fits the data.
    public var xRange: ClosedRange<Double>?
    public var yRange: ClosedRange<Double>?
    /// A dashed y = x reference (ROC chance line).
    public var diagonal = false
    /// The x axis counts whole things (iterations): only integer ticks (SVG).
    public var integerX = false
    public var width = 640
    public var height = 480

    public init(title: String, xLabel: String, yLabel: String, series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }

    /// Round tick positions (1, 2 or 5 times a power of ten) covering `range`, about `count` of them.
    public static func ticks(_ range: ClosedRange<Double>, count: Int = 5) -> [Double] {
        let span = range.upperBound - range.lowerBound
        guard span > 0, span.isFinite else { return [range.lowerBound] }
        let raw = span / Double(count), exponent = Int(floor(log10(raw)))
        let multiple = [1, 2, 5, 10].first { Double($0) * pow(10, Double(exponent)) >= raw } ?? 10
        // value(k) = k · multiple · 10^exponent, computed so decimal ticks come out exact (0.6, not 0.6000000000000001).
        func value(_ k: Int) -> Double {
            exponent < 0 ? Double(k * multiple) / pow(10, Double(-exponent)) : Double(k * multiple) * pow(10, Double(exponent))
        }
        let step = value(1)
        var ticks: [Double] = []
        var k = Int((range.lowerBound / step - 1e-9).rounded(.up))
        while value(k) <= range.upperBound + step * 1e-9 {
            ticks.append(value(k))
            k += 1
        }
        return ticks
    }

    static func label(_ value: Double, step: Double) -> String {
        let decimals = max(0, min(4, Int(-floor(log10(step)))))
        return String(format: "%.\(decimals)f", value)
    }

    static func fitted(_ values: [Double]) -> ClosedRange<Double> {
        let finite = values.filter(\.isFinite)
        guard let low = finite.min(), let high = finite.max() else { return 0...1 }
        if low == high { return (low - 1)...(high + 1) }
        let pad = (high - low) * 0.05
        return (low - pad)...(high + pad)
    }
}
