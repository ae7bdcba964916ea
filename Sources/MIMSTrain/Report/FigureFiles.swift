import Foundation
import MIMSCore
import MIMSPlot
import MIMSShards

/// A figure's two files, for the report's charts and the heatmap figures alike: `base.svg`, which
/// the HTML report shows inline, and `base.png` drawn from it by librsvg for print.
enum FigureFiles {
    /// `scale` is the PNG's size over the SVG's: 300 dpi for charts by default.
    static func write(svg text: String, to base: String, scale: Double = SVGRasterizer.printScale) throws {
        try AtomicFile.write(Data(text.utf8), to: base + ".svg")
        try AtomicFile.write(Data(try SVGRasterizer.png(text, scale: scale)), to: base + ".png")
    }
}
