import Foundation

extension ConfusionMatrixChart {
    /// The matrix as standalone SVG: class names and counts as real text, each cell shaded by its
    /// row share, and a hover title on every cell with its count and its
    /// percentage of the true class's records.
    public func svg() -> String {
        let n = counts.count, fontSize = 13.0, charWidth = 7.2
        let longest = Double(classes.map(\.count).max() ?? 1)
        let left = max(90, longest * charWidth + 44), top = 62.0
        let cell = max(48, min(110, (Double(width) - left - 20) / Double(n)))
        let totalWidth = max(Double(width), left + cell * Double(n) + 20)
        let totalHeight = top + cell * Double(n) + 48
        let f = SVGText.number
        var out = SVGText.header(width: totalWidth, height: totalHeight, fontSize: fontSize, title: title)
        out += "<text x=\"\(f(totalWidth / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"\(f(fontSize + 2))\" font-weight=\"bold\">\(SVGText.escape(title))</text>\n"
        out += "<text x=\"\(f(left + cell * Double(n) / 2))\" y=\"\(f(top - 12))\" text-anchor=\"middle\">predicted</text>\n"
        out += "<text transform=\"translate(16 \(f(top + cell * Double(n) / 2))) rotate(-90)\" text-anchor=\"middle\">true</text>\n"
        for i in 0..<n {
            let y = top + Double(i) * cell
            out += "<text class=\"row-name\" x=\"\(f(left - 8))\" y=\"\(f(y + cell / 2 + 4))\" text-anchor=\"end\">\(SVGText.escape(classes[i]))</text>\n"
            out += "<text class=\"column-name\" x=\"\(f(left + (Double(i) + 0.5) * cell))\" y=\"\(f(top + cell * Double(n) + 20))\" text-anchor=\"middle\">\(SVGText.escape(classes[i]))</text>\n"
        }
        for i in 0..<n {
            for j in 0..<n {
                let (x, y) = (left + Double(j) * cell, top + Double(i) * cell)
                let share = rowShare(i, j)
                let hover = "true \(classes[i]), predicted \(classes[j]): \(counts[i][j]) (\(String(format: "%.1f", 100 * share))% of true \(classes[i]))"
                out += "<g class=\"cell\" data-row=\"\(i)\" data-column=\"\(j)\"><title>\(SVGText.escape(hover))</title>"
                out += "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(cell))\" height=\"\(f(cell))\" fill=\"\(SVGText.hex(Self.shade(share)))\" stroke=\"\(SVGText.hex(.axis))\"/>"
                out += "<text x=\"\(f(x + cell / 2))\" y=\"\(f(y + cell / 2 + 7))\" text-anchor=\"middle\" font-size=\"20\""
                    + " fill=\"\(share > Self.whiteTextShare ? "white" : "black")\">\(counts[i][j])</text></g>\n"
            }
        }
        return out + "</svg>\n"
    }
}
