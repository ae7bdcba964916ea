/// A 2x2 confusion matrix: rows are the true class, columns the predicted one, each cell shaded by
/// its share of its row and labelled with its count.
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

    public func render() -> Canvas {
        var canvas = Canvas(width: width, height: height)
        let n = counts.count
        let (left, top) = (130, 70)
        let cell = min((width - left - 20) / n, (height - top - 40) / n)
        canvas.text(title, x: (width - Canvas.textWidth(title)) / 2, y: 12)
        canvas.text("predicted", x: left + (cell * n - Canvas.textWidth("predicted")) / 2, y: 36)
        canvas.verticalText("true", x: 10, y: top + (cell * n - Canvas.textWidth("true")) / 2)
        for i in 0..<n {
            let total = max(1, counts[i].reduce(0, +))
            let name = classes[i]
            canvas.text(name, x: left - 10 - Canvas.textWidth(name), y: top + i * cell + cell / 2 - 7)
            canvas.text(classes[i], x: left + i * cell + (cell - Canvas.textWidth(classes[i])) / 2, y: top + n * cell + 8)
            for j in 0..<n {
                let share = Double(counts[i][j]) / Double(total)
                let shade = UInt8(255 - 170 * share)
                let color = Canvas.Color(shade, shade, 255)
                canvas.fillRect(x: left + j * cell, y: top + i * cell, width: cell, height: cell, color: color)
                canvas.strokeRect(x: left + j * cell, y: top + i * cell, width: cell, height: cell, color: .axis)
                let text = String(counts[i][j])
                canvas.text(text, x: left + j * cell + (cell - Canvas.textWidth(text, scale: 3)) / 2, y: top + i * cell + cell / 2 - 10,
                            color: share > 0.6 ? .white : .black, scale: 3)
            }
        }
        return canvas
    }
}
