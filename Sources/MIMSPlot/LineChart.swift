import Foundation

/// A line chart with axes, ticks, grid, axis labels, a title and a legend, drawn to a ``Canvas``.
public struct LineChart: Sendable {
    public struct Series: Sendable {
        public var name: String
        public var points: [(Double, Double)]
        public var dashed: Bool
        public var markers: Bool
        /// A colour of its own (a mean line); nil takes the next of ``Canvas/Color/series``.
        public var color: Canvas.Color?
        /// A shaded area around the line, such as mean ± sd over seeds: (x, low, high) per point.
        public var band: [(x: Double, low: Double, high: Double)]

        public init(name: String, points: [(Double, Double)], dashed: Bool = false, markers: Bool = false,
                    color: Canvas.Color? = nil, band: [(x: Double, low: Double, high: Double)] = []) {
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
    func color(of index: Int) -> Canvas.Color {
        series[index].color ?? Canvas.Color.series[index % Canvas.Color.series.count]
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

    public func render() -> Canvas {
        var canvas = Canvas(width: width, height: height)
        let (left, right, top, bottom) = (78, 20, 44, 58)
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let xr = xRange ?? Self.fitted(extent.x)
        let yr = yRange ?? Self.fitted(extent.y)
        func px(_ x: Double) -> Double { Double(left) + (x - xr.lowerBound) / (xr.upperBound - xr.lowerBound) * Double(plotWidth - 1) }
        func py(_ y: Double) -> Double { Double(top + plotHeight - 1) - (y - yr.lowerBound) / (yr.upperBound - yr.lowerBound) * Double(plotHeight - 1) }

        let xTicks = Self.ticks(xr), yTicks = Self.ticks(yr)
        let xStep = xTicks.count > 1 ? xTicks[1] - xTicks[0] : 1, yStep = yTicks.count > 1 ? yTicks[1] - yTicks[0] : 1
        for t in xTicks {
            let x = px(t)
            canvas.line(from: (x, Double(top)), to: (x, Double(top + plotHeight - 1)), color: .grid)
            canvas.line(from: (x, Double(top + plotHeight)), to: (x, Double(top + plotHeight + 5)), color: .axis)
            let text = Self.label(t, step: xStep)
            canvas.text(text, x: Int(x) - Canvas.textWidth(text) / 2, y: top + plotHeight + 9, color: .axis)
        }
        for t in yTicks {
            let y = py(t)
            canvas.line(from: (Double(left), y), to: (Double(left + plotWidth - 1), y), color: .grid)
            canvas.line(from: (Double(left - 6), y), to: (Double(left - 1), y), color: .axis)
            let text = Self.label(t, step: yStep)
            canvas.text(text, x: left - 9 - Canvas.textWidth(text), y: Int(y) - Canvas.textHeight() / 2, color: .axis)
        }
        canvas.strokeRect(x: left - 1, y: top - 1, width: plotWidth + 2, height: plotHeight + 2, color: .axis)
        if diagonal {
            canvas.line(from: (px(max(xr.lowerBound, yr.lowerBound)), py(max(xr.lowerBound, yr.lowerBound))),
                        to: (px(min(xr.upperBound, yr.upperBound)), py(min(xr.upperBound, yr.upperBound))), color: Canvas.Color(160, 160, 160), dashed: true)
        }
        // Bands first, so every line stays visible on top of them.
        for (index, s) in series.enumerated() {
            let color = color(of: index)
            for (a, b) in zip(s.band, s.band.dropFirst()) where a.low.isFinite && a.high.isFinite && b.low.isFinite && b.high.isFinite {
                let x0 = Int(px(a.x).rounded()), x1 = Int(px(b.x).rounded())
                for x in x0...max(x0, x1) where x >= left && x < left + plotWidth {
                    let t = x1 == x0 ? 0 : Double(x - x0) / Double(x1 - x0)
                    let low = py(min(yr.upperBound, max(yr.lowerBound, a.low + (b.low - a.low) * t)))
                    let high = py(min(yr.upperBound, max(yr.lowerBound, a.high + (b.high - a.high) * t)))
                    canvas.blendColumn(x: x, from: Int(high.rounded()), to: Int(low.rounded()), color: color, opacity: Self.bandOpacity)
                }
            }
        }
        for (index, s) in series.enumerated() {
            let color = color(of: index)
            for (a, b) in zip(s.points, s.points.dropFirst()) where a.1.isFinite && b.1.isFinite {
                canvas.line(from: (px(a.0), py(a.1)), to: (px(b.0), py(b.1)), color: color, thickness: 2, dashed: s.dashed)
            }
            if s.markers || s.points.count == 1 {
                for p in s.points where p.1.isFinite { canvas.fillRect(x: Int(px(p.0)) - 3, y: Int(py(p.1)) - 3, width: 7, height: 7, color: color) }
            }
        }
        canvas.text(title, x: (width - Canvas.textWidth(title)) / 2, y: 14)
        canvas.text(xLabel, x: left + (plotWidth - Canvas.textWidth(xLabel)) / 2, y: height - 22)
        canvas.verticalText(yLabel, x: 10, y: top + (plotHeight - Canvas.textWidth(yLabel)) / 2)

        // Legend, bottom-right inside the plot.
        let named = series.enumerated().filter { !$0.element.name.isEmpty }
        if !named.isEmpty {
            let rowHeight = 20, boxWidth = named.map { Canvas.textWidth($0.element.name) }.max()! + 44
            let boxHeight = named.count * rowHeight + 10
            let bx = left + plotWidth - boxWidth - 10, by = top + plotHeight - boxHeight - 10
            canvas.fillRect(x: bx, y: by, width: boxWidth, height: boxHeight, color: .white)
            canvas.strokeRect(x: bx, y: by, width: boxWidth, height: boxHeight, color: Canvas.Color(180, 180, 180))
            for (row, (index, s)) in named.enumerated() {
                let y = by + 8 + row * rowHeight
                let color = color(of: index)
                canvas.line(from: (Double(bx + 8), Double(y + 7)), to: (Double(bx + 30), Double(y + 7)), color: color, thickness: 3)
                canvas.text(s.name, x: bx + 36, y: y)
            }
        }
        return canvas
    }
}
