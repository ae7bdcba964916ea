import Foundation

extension LineChart {
    /// The chart as standalone SVG: real text in the reader's sans-serif font (crisp at any zoom),
    /// the legend beside the plot rather than over the curves, and every point's values shown when
    /// the pointer rests on it (an SVG `<title>`). ``SVGRasterizer`` draws it as PNG for print.
    public func svg() -> String {
        let fontSize = 13.0, charWidth = 7.2
        let named = series.enumerated().filter { !$0.element.name.isEmpty }
        let legendWidth = named.isEmpty ? 0.0 : Double(named.map(\.element.name.count).max()!) * charWidth + 48
        let (left, right, top, bottom) = (70.0, 20.0 + legendWidth, 40.0, 56.0)
        let totalWidth = Double(width) + legendWidth, totalHeight = Double(height)
        let plotWidth = totalWidth - left - right, plotHeight = totalHeight - top - bottom
        let xr = xRange ?? Self.fitted(extent.x)
        let yr = yRange ?? Self.fitted(extent.y)
        func px(_ x: Double) -> Double { left + (x - xr.lowerBound) / (xr.upperBound - xr.lowerBound) * plotWidth }
        func py(_ y: Double) -> Double { top + plotHeight - (y - yr.lowerBound) / (yr.upperBound - yr.lowerBound) * plotHeight }
        let n = SVGText.number, hex = SVGText.hex

        var xTicks = Self.ticks(xr), yTicks = Self.ticks(yr)
        if integerX {
            // Iterations are whole numbers: no 2.5 on the axis.
            xTicks = xTicks.filter { $0 == $0.rounded() }
            if xTicks.isEmpty { xTicks = [xr.lowerBound.rounded(.up)].filter { xr.contains($0) } }
        }
        let xStep = integerX ? 1 : (xTicks.count > 1 ? xTicks[1] - xTicks[0] : 1), yStep = yTicks.count > 1 ? yTicks[1] - yTicks[0] : 1
        yTicks = yTicks.filter { yr.contains($0) }

        var out = SVGText.header(width: totalWidth, height: totalHeight, fontSize: fontSize, title: title)
        for t in xTicks where xr.contains(t) {
            out += "<line x1=\"\(n(px(t)))\" y1=\"\(n(top))\" x2=\"\(n(px(t)))\" y2=\"\(n(top + plotHeight))\" stroke=\"\(hex(.grid))\"/>\n"
            out += "<text x=\"\(n(px(t)))\" y=\"\(n(top + plotHeight + 18))\" text-anchor=\"middle\" fill=\"\(hex(.axis))\">\(Self.label(t, step: xStep))</text>\n"
        }
        for t in yTicks {
            out += "<line x1=\"\(n(left))\" y1=\"\(n(py(t)))\" x2=\"\(n(left + plotWidth))\" y2=\"\(n(py(t)))\" stroke=\"\(hex(.grid))\"/>\n"
            out += "<text x=\"\(n(left - 8))\" y=\"\(n(py(t) + 4))\" text-anchor=\"end\" fill=\"\(hex(.axis))\">\(Self.label(t, step: yStep))</text>\n"
        }
        out += "<rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(plotWidth))\" height=\"\(n(plotHeight))\" fill=\"none\" stroke=\"\(hex(.axis))\"/>\n"
        if diagonal {
            let a = max(xr.lowerBound, yr.lowerBound), b = min(xr.upperBound, yr.upperBound)
            out += "<line x1=\"\(n(px(a)))\" y1=\"\(n(py(a)))\" x2=\"\(n(px(b)))\" y2=\"\(n(py(b)))\" stroke=\"#a0a0a0\" stroke-dasharray=\"6 4\"/>\n"
        }
        // Bands under every line: one polygon per unbroken run, upper edge forward and lower edge back.
        for (index, s) in series.enumerated() where s.band.count > 1 {
            let clamp = { (v: Double) in min(yr.upperBound, max(yr.lowerBound, v)) }
            var runs: [[(x: Double, low: Double, high: Double)]] = [[]]
            for p in s.band { if p.low.isFinite && p.high.isFinite { runs[runs.count - 1].append(p) } else if !runs[runs.count - 1].isEmpty { runs.append([]) } }
            for run in runs where run.count > 1 {
                let outline = run.map { "\(n(px($0.x))),\(n(py(clamp($0.high))))" } + run.reversed().map { "\(n(px($0.x))),\(n(py(clamp($0.low))))" }
                out += "<polygon class=\"band\" fill=\"\(hex(color(of: index)))\" fill-opacity=\"\(Self.bandOpacity)\" stroke=\"none\" points=\"\(outline.joined(separator: " "))\">"
                    + "<title>\(SVGText.escape(s.name))</title></polygon>\n"
            }
        }
        for (index, s) in series.enumerated() {
            let color = hex(color(of: index))
            // A NaN (an evaluation without an AUROC) breaks the line instead of joining across it.
            var runs: [[(Double, Double)]] = [[]]
            for p in s.points { if p.1.isFinite { runs[runs.count - 1].append(p) } else if !runs[runs.count - 1].isEmpty { runs.append([]) } }
            for run in runs where run.count > 1 {
                out += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"\(s.dashed ? " stroke-dasharray=\"6 4\"" : "") points=\""
                    + run.map { "\(n(px($0.0))),\(n(py($0.1)))" }.joined(separator: " ") + "\"/>\n"
            }
            // Hover targets: every point of short series, an even sample of long ones.
            let finite = s.points.filter { $0.1.isFinite }
            let stride = max(1, finite.count / 400)
            let visible = s.markers || finite.count == 1
            let bandAt = Dictionary(s.band.map { ($0.x, $0) }, uniquingKeysWith: { a, _ in a })
            for (k, p) in finite.enumerated() where k % stride == 0 || k == finite.count - 1 {
                let range = bandAt[p.0].map { " (band \(Self.value($0.low)) to \(Self.value($0.high)))" } ?? ""
                out += "<circle cx=\"\(n(px(p.0)))\" cy=\"\(n(py(p.1)))\" r=\"\(visible ? 4 : 5)\" fill=\"\(color)\"\(visible ? "" : " fill-opacity=\"0\"")>"
                    + "<title>\(SVGText.escape(s.name.isEmpty ? "" : s.name + ": "))\(SVGText.escape(xLabel)) \(Self.value(p.0)), \(SVGText.escape(yLabel)) \(Self.value(p.1))\(range)</title></circle>\n"
            }
        }
        out += "<text x=\"\(n(totalWidth / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"\(n(fontSize + 2))\" font-weight=\"bold\">\(SVGText.escape(title))</text>\n"
        out += "<text x=\"\(n(left + plotWidth / 2))\" y=\"\(n(totalHeight - 14))\" text-anchor=\"middle\">\(SVGText.escape(xLabel))</text>\n"
        out += "<text transform=\"translate(18 \(n(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\">\(SVGText.escape(yLabel))</text>\n"
        if !named.isEmpty {
            let lx = left + plotWidth + 16
            out += "<g class=\"legend\">\n"
            for (row, (index, s)) in named.enumerated() {
                let y = top + 10 + Double(row) * 22
                let color = hex(color(of: index))
                if !s.band.isEmpty {
                    out += "<rect x=\"\(n(lx))\" y=\"\(n(y - 7))\" width=\"24\" height=\"14\" fill=\"\(color)\" fill-opacity=\"\(Self.bandOpacity)\"/>\n"
                }
                out += "<line x1=\"\(n(lx))\" y1=\"\(n(y))\" x2=\"\(n(lx + 24))\" y2=\"\(n(y))\" stroke=\"\(color)\" stroke-width=\"3\"\(s.dashed ? " stroke-dasharray=\"6 4\"" : "")/>\n"
                out += "<text x=\"\(n(lx + 30))\" y=\"\(n(y + 4))\">\(SVGText.escape(s.name))</text>\n"
            }
            out += "</g>\n"
        }
        return out + "</svg>\n"
    }

    /// A value for a hover label: integers as integers, others to 4 significant digits.
    static func value(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : String(format: "%.4g", v)
    }
}
