import Foundation

/// The text pieces every SVG chart writes: escaped strings, coordinates and colours.
enum SVGText {
    /// `text` safe inside an XML element or a double-quoted attribute.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// A coordinate: two decimals are finer than any screen and keep the files short.
    static func number(_ v: Double) -> String { String(format: "%.2f", v) }

    static func hex(_ c: PlotColor) -> String { String(format: "#%02x%02x%02x", c.r, c.g, c.b) }

    /// The opening `<svg>` element of a chart `width` x `height` with the reader's sans-serif font, and its title.
    static func header(width: Double, height: Double, fontSize: Double, title: String) -> String {
        """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(number(width))" height="\(number(height))" viewBox="0 0 \(number(width)) \(number(height))" \
        font-family="Helvetica, Arial, sans-serif" font-size="\(number(fontSize))" role="img">
        <title>\(escape(title))</title>
        <rect width="100%" height="100%" fill="white"/>

        """
    }
}
