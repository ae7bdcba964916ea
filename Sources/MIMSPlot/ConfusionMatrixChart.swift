/// A confusion matrix of any number of classes: rows are the true class, columns the predicted one,
/// each cell shaded by its share of its row and labelled with its count, drawn as SVG (ConfusionMatrixChart+SVG.swift); ``SVGRasterizer`` makes its PNG.
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
    static func shade(_ share: Double) -> PlotColor {
        let level = UInt8(255 - 170 * share)
        return PlotColor(level, level, 255)
    }

    /// Counts on cells darker than this share are written in white.
    static let whiteTextShare = 0.6
}
