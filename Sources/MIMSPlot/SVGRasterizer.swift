import CSVGRaster
import MIMSImage

/// A chart's SVG drawn to PNG by librsvg: the copy for print comes from the same drawing as the
/// one on screen, with the same fonts, so there is one chart and not two.
public enum SVGRasterizer {
    /// 300 dots per inch for an SVG sized in CSS pixels (96 per inch).
    public static let printScale = 300.0 / 96.0

    /// PNG bytes of `svg` rendered at `scale` times its own pixel size, on white. Compression level
    /// 2: a 300 dpi chart is a few million pixels of mostly white, and level 6 took several times
    /// longer for files about a tenth smaller.
    public static func png(_ svg: String, scale: Double = printScale) throws -> [UInt8] {
        try PNGEncoder.encode(render(svg, scale: scale), compressionLevel: 2)
    }

    /// The RGB pixels of `svg` at `scale` times its own pixel size.
    public static func render(_ svg: String, scale: Double = printScale) throws -> Frame {
        var rgb: UnsafeMutablePointer<UInt8>?
        var width: Int32 = 0, height: Int32 = 0
        var message = [CChar](repeating: 0, count: 512)
        let utf8 = Array(svg.utf8)
        let status = utf8.withUnsafeBufferPointer { text in
            text.withMemoryRebound(to: CChar.self) { mims_svg_render($0.baseAddress, $0.count, scale, &rgb, &width, &height, &message, message.count) }
        }
        defer { mims_svg_free(rgb) }
        guard status == 0, let rgb else {
            throw PlotError.rasterization(reason: String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        let pixels = Array(UnsafeBufferPointer(start: rgb, count: Int(width) * Int(height) * 3))
        return Frame(width: Int(width), height: Int(height), channels: 3, pixels: pixels)
    }
}
