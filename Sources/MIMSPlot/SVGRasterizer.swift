import CSVGRaster

/// A chart's SVG drawn to PNG by librsvg: the copy for print comes from the same drawing as the
/// one on screen, with the same fonts, so there is one chart and not two.
public enum SVGRasterizer {
    /// 300 dots per inch for an SVG sized in CSS pixels (96 per inch).
    public static let printScale = 300.0 / 96.0

    /// PNG bytes of `svg` rendered at `scale` times its own pixel size, on white.
    public static func png(_ svg: String, scale: Double = printScale) throws -> [UInt8] {
        var png: UnsafeMutablePointer<UInt8>?
        var length = 0
        var message = [CChar](repeating: 0, count: 512)
        let utf8 = Array(svg.utf8)
        let status = utf8.withUnsafeBufferPointer { text in
            text.withMemoryRebound(to: CChar.self) { mims_svg_to_png($0.baseAddress, $0.count, scale, &png, &length, &message, message.count) }
        }
        defer { mims_svg_free(png) }
        guard status == 0, let png else {
            throw PlotError.rasterization(reason: String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return Array(UnsafeBufferPointer(start: png, count: length))
    }
}
