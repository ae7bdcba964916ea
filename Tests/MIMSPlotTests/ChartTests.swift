import Foundation
import MIMSImage
import MIMSTestSupport
import Testing
@testable import MIMSPlot

struct ChartTests {
    @Test func ticksAreRoundAndCoverTheRange() {
        #expect(LineChart.ticks(0...1) == [0, 0.2, 0.4, 0.6, 0.8, 1.0].map { $0 })
        #expect(LineChart.ticks(0...137) == [0, 50, 100])
        #expect(LineChart.ticks(0.31...0.74, count: 4) == [0.4, 0.6])
        #expect(LineChart.ticks(0...0.03) == [0, 0.01, 0.02, 0.03])
        #expect(LineChart.label(0.4, step: 0.1) == "0.4" && LineChart.label(100, step: 50) == "100")
    }

    /// A ROC chart through PNG and Pillow: the curve's pixels carry the first series colour where
    /// the data says, the chance diagonal is dashed grey, the title's glyphs are drawn.
    @Test func rocChartRoundTripsThroughPillow() throws {
        var chart = LineChart(title: "ROC test", xLabel: "false positive rate", yLabel: "true positive rate",
                              series: [.init(name: "run A (AUROC 0.750)", points: [(0, 0), (0, 0.5), (0.5, 0.5), (0.5, 1), (1, 1)])])
        chart.xRange = 0...1
        chart.yRange = 0...1
        chart.diagonal = true
        let canvas = chart.render()
        let dir = try TemporaryDirectory()
        let path = dir.path + "/roc.png"
        try Data(try PNGEncoder.encode(Frame(width: canvas.width, height: canvas.height, channels: 3, pixels: canvas.pixels))).write(to: URL(fileURLWithPath: path))
        let decoded = try pillowPixels(path, mode: "RGB")
        #expect(decoded == canvas.pixels)
        // Plot area: left 78, top 44, 542 x 378 pixels; (x, y) data → pixel.
        func at(_ x: Double, _ y: Double) -> Canvas.Color {
            canvas.pixel(x: Int((78 + x * 541).rounded()), y: Int((44 + 377 - y * 377).rounded()))
        }
        let blue = Canvas.Color.series[0]
        #expect(at(0.25, 0.5) == blue)      // horizontal segment at tpr 0.5
        #expect(at(0.5, 0.75) == blue)      // vertical segment at fpr 0.5
        #expect(at(0.75, 0.25) == .white)   // empty area below the diagonal
        let diagonal = (0..<100).map { at(Double($0) / 100, Double($0) / 100) }.filter { $0 == Canvas.Color(160, 160, 160) }
        #expect(diagonal.count > 30 && diagonal.count < 90)
        // The title "ROC test" (8 glyphs at scale 2) leaves black pixels in its band and nowhere near the corners.
        let band = (12..<30).flatMap { y in (0..<canvas.width).map { canvas.pixel(x: $0, y: y) } }.filter { $0 == .black }
        #expect(band.count > 100)
    }

    @Test func confusionMatrixDrawsEveryCount() {
        let canvas = ConfusionMatrixChart(title: "confusion", classes: ["normal", "DME"], counts: [[10, 3], [1, 12]]).render()
        // Cells are shaded by their row share: the diagonal cells are darker than the off-diagonal ones.
        func cellColor(_ i: Int, _ j: Int) -> Canvas.Color {
            let cell = min((420 - 130 - 20) / 2, (380 - 70 - 40) / 2)
            return canvas.pixel(x: 130 + j * cell + 4, y: 70 + i * cell + 4)
        }
        #expect(cellColor(0, 0).r < cellColor(0, 1).r && cellColor(1, 1).r < cellColor(1, 0).r)
    }
}
