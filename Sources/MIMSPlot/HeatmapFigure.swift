/// One slice's heatmap as a reviewer reads it: the gray and the jet overlay side by side, the lesion
/// boxes (planted by `mims-ingest synth`, or annotated) outlined on both panels, and a colour bar
/// for the jet scale of P* (0 to 255), drawn as SVG by ``svg()`` with its caption as real
/// text and hover titles; ``SVGRasterizer`` makes the PNG for print.
public struct HeatmapFigure: Sendable {
    /// A box in frame pixels, half-open: rows y0..<y1, columns x0..<x1.
    public struct Box: Sendable, Equatable {
        public var y0: Int, x0: Int, y1: Int, x1: Int
        public init(y0: Int, x0: Int, y1: Int, x1: Int) { self.y0 = y0; self.x0 = x0; self.y1 = y1; self.x1 = x1 }
    }

    /// The two panels (gray left, jet right) as one PNG of `2 * panelWidth` x `height` pixels.
    public var overlayPNG: [UInt8]
    public var panelWidth: Int
    public var height: Int
    public var boxes: [Box]
    /// What the figure shows, e.g. "slice 37 of 128, label 1, score 0.934"; the SVG writes it above the panels.
    public var caption: String

    /// Outline colour of lesion boxes: magenta, which neither the gray nor the jet panel contains.
    public static let boxColor = PlotColor(255, 0, 255)

    public init(overlayPNG: [UInt8], panelWidth: Int, height: Int, boxes: [Box] = [], caption: String = "") {
        self.overlayPNG = overlayPNG
        self.panelWidth = panelWidth
        self.height = height
        self.boxes = boxes
        self.caption = caption
    }
}
