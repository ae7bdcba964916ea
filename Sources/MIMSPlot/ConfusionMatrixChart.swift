/// A confusion matrix of any number of classes: rows are the true class, columns the predicted one,
/// each cell shaded by its share of its row and labelled with its count. ``render()`` draws the
/// bitmap (the copy for print), `svg()` (ConfusionMatrixChart+SVG.swift) the same chart for the page.
public struct ConfusionMatrixChart: Sendable {
    public var title: String
    public var classes: [String]
    /// counts[true][predicted]
    public var counts: [[Int]]
    public var width = 420
    public var height = 380

    public init(title: String, classes: [String], counts: [[Int]]) {
        self.title = title
        self.classes = classes
        self.counts = counts
    }

    /// The share of row `i` that cell (i, j) holds; 0 in an empty row.
    public func rowShare(_ i: Int, _ j: Int) -> Double {
        let total = counts[i].reduce(0, +)
        return total == 0 ? 0 : Double(counts[i][j]) / Double(total)
    }

    /// A cell's fill: white for none of its row, deep blue for all of it.
    static func shade(_ share: Double) -> Canvas.Color {
        let level = UInt8(255 - 170 * share)
        return Canvas.Color(level, level, 255)
    }

    /// Counts on cells darker than this share are written in white.
    static let whiteTextShare = 0.6

    public func render() -> Canvas {
        var canvas = Canvas(width: width, height: height)
        let n = counts.count
        let (left, top) = (130, 70)
        let cell = min((width - left - 20) / n, (height - top - 40) / n)
        canvas.text(title, x: (width - Canvas.textWidth(title)) / 2, y: 12)
        canvas.text("predicted", x: left + (cell * n - Canvas.textWidth("predicted")) / 2, y: 36)
        canvas.verticalText("true", x: 10, y: top + (cell * n - Canvas.textWidth("true")) / 2)
        for i in 0..<n {
            let name = classes[i]
            canvas.text(name, x: left - 10 - Canvas.textWidth(name), y: top + i * cell + cell / 2 - 7)
            canvas.text(classes[i], x: left + i * cell + (cell - Canvas.textWidth(classes[i])) / 2, y: top + n * cell + 8)
            for j in 0..<n {
                let share = rowShare(i, j)
                canvas.fillRect(x: left + j * cell, y: top + i * cell, width: cell, height: cell, color: Self.shade(share))
                canvas.strokeRect(x: left + j * cell, y: top + i * cell, width: cell, height: cell, color: .axis)
                let text = String(counts[i][j])
                canvas.text(text, x: left + j * cell + (cell - Canvas.textWidth(text, scale: 3)) / 2, y: top + i * cell + cell / 2 - 10,
                            color: share > Self.whiteTextShare ? .white : .black, scale: 3)
            }
        }
        return canvas
    }
}
