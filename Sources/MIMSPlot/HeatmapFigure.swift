/// One slice's heatmap as a reviewer reads it: the gray and the jet overlay side by side, the lesion
/// boxes (planted by `mims-ingest synth`, or annotated) outlined on both panels, and a colour bar
/// for the jet scale of P* (0 to 255). ``render()`` draws the bitmap for print, ``svg(overlayPNG:)``
/// the same figure with its caption as real text and hover titles, for the HTML report.
public struct HeatmapFigure: Sendable {
    /// A box in frame pixels, half-open: rows y0..<y1, columns x0..<x1.
    public struct Box: Sendable, Equatable {
        public var y0: Int, x0: Int, y1: Int, x1: Int
        public init(y0: Int, x0: Int, y1: Int, x1: Int) { self.y0 = y0; self.x0 = x0; self.y1 = y1; self.x1 = x1 }
    }

    /// The two panels' RGB bytes, row-major: `height` rows of `2 * panelWidth` pixels.
    public var overlay: [UInt8]
    public var panelWidth: Int
    public var height: Int
    public var boxes: [Box]
    /// What the figure shows, e.g. "slice 37 of 128, label 1, score 0.934"; the SVG writes it above the panels.
    public var caption: String

    /// Outline colour of lesion boxes: magenta, which neither the gray nor the jet panel contains.
    public static let boxColor = Canvas.Color(255, 0, 255)
    /// The colour bar's strip width and the margin around it, in frame pixels (bitmap).
    static let barWidth = 10, barGap = 4, barLabelWidth = 3 * 6 - 1 + 3

    public init(overlay: [UInt8], panelWidth: Int, height: Int, boxes: [Box] = [], caption: String = "") {
        precondition(overlay.count == height * 2 * panelWidth * 3, "two RGB panels of panelWidth x height")
        self.overlay = overlay
        self.panelWidth = panelWidth
        self.height = height
        self.boxes = boxes
        self.caption = caption
    }

    /// The bar's value at row `y` of `rows` (top row = 255, bottom row = 0), in 0...1.
    static func barValue(row y: Int, rows: Int) -> Float { rows > 1 ? Float(rows - 1 - y) / Float(rows - 1) : 1 }

    /// The figure at frame resolution: panels, boxes, then the colour bar with its ends labelled 255 and 0.
    public func render() -> Canvas {
        let width = 2 * panelWidth + Self.barGap + Self.barWidth + Self.barGap + Self.barLabelWidth
        var canvas = Canvas(width: width, height: max(height, 2 * Canvas.textHeight(scale: 1) + 4))
        for y in 0..<height {
            for x in 0..<(2 * panelWidth) {
                let i = (y * 2 * panelWidth + x) * 3
                canvas.set(x: x, y: y, Canvas.Color(overlay[i], overlay[i + 1], overlay[i + 2]))
            }
        }
        for box in boxes {
            for offset in [0, panelWidth] {
                let (x0, x1) = (max(0, box.x0), min(panelWidth, box.x1)), (y0, y1) = (max(0, box.y0), min(height, box.y1))
                guard x1 > x0, y1 > y0 else { continue }
                canvas.strokeRect(x: offset + x0, y: y0, width: x1 - x0, height: y1 - y0, color: Self.boxColor)
            }
        }
        let barX = 2 * panelWidth + Self.barGap
        for y in 0..<height {
            canvas.fillRect(x: barX, y: y, width: Self.barWidth, height: 1, color: ColorMap.jetColor(Self.barValue(row: y, rows: height)))
        }
        canvas.text("255", x: barX + Self.barWidth + Self.barGap, y: 0, color: .axis, scale: 1)
        canvas.text("0", x: barX + Self.barWidth + Self.barGap, y: height - Canvas.textHeight(scale: 1), color: .axis, scale: 1)
        return canvas
    }
}
