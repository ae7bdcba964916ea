/// An RGB raster with the few drawing primitives charts need; (0, 0) is the top-left pixel.
public struct Canvas: Sendable {
    public struct Color: Equatable, Sendable {
        public var r: UInt8, g: UInt8, b: UInt8
        public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }
        public static let white = Color(255, 255, 255), black = Color(0, 0, 0), grid = Color(225, 225, 225), axis = Color(60, 60, 60)
        /// Distinguishable series colours (Tableau 10).
        public static let series = [Color(31, 119, 180), Color(255, 127, 14), Color(44, 160, 44), Color(214, 39, 40),
                                    Color(148, 103, 189), Color(140, 86, 75), Color(227, 119, 194), Color(127, 127, 127)]
    }

    public let width: Int
    public let height: Int
    /// Row-major RGB bytes.
    public private(set) var pixels: [UInt8]

    public init(width: Int, height: Int, background: Color = .white) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        fillRect(x: 0, y: 0, width: width, height: height, color: background)
    }

    public func pixel(x: Int, y: Int) -> Color {
        let i = (y * width + x) * 3
        return Color(pixels[i], pixels[i + 1], pixels[i + 2])
    }

    public mutating func set(x: Int, y: Int, _ color: Color) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = (y * width + x) * 3
        pixels[i] = color.r; pixels[i + 1] = color.g; pixels[i + 2] = color.b
    }

    public mutating func fillRect(x: Int, y: Int, width w: Int, height h: Int, color: Color) {
        for yy in max(0, y)..<min(height, y + h) { for xx in max(0, x)..<min(width, x + w) { set(x: xx, y: yy, color) } }
    }

    public mutating func strokeRect(x: Int, y: Int, width w: Int, height h: Int, color: Color) {
        line(from: (Double(x), Double(y)), to: (Double(x + w - 1), Double(y)), color: color)
        line(from: (Double(x), Double(y + h - 1)), to: (Double(x + w - 1), Double(y + h - 1)), color: color)
        line(from: (Double(x), Double(y)), to: (Double(x), Double(y + h - 1)), color: color)
        line(from: (Double(x + w - 1), Double(y)), to: (Double(x + w - 1), Double(y + h - 1)), color: color)
    }

    /// Rows `y0...y1` of column `x` mixed with `color` at `opacity` (0 keeps the pixels, 1 paints over
    /// them): a translucent band that leaves the grid visible beneath it.
    public mutating func blendColumn(x: Int, from y0: Int, to y1: Int, color: Color, opacity: Double) {
        guard x >= 0, x < width else { return }
        func mix(_ under: UInt8, _ over: UInt8) -> UInt8 { UInt8((Double(under) * (1 - opacity) + Double(over) * opacity).rounded()) }
        for y in max(0, min(y0, y1))...min(height - 1, max(y0, y1)) where max(y0, y1) >= 0 {
            let under = pixel(x: x, y: y)
            set(x: x, y: y, Color(mix(under.r, color.r), mix(under.g, color.g), mix(under.b, color.b)))
        }
    }

    /// A straight segment `thickness` pixels wide (square pen), sampled every half pixel.
    public mutating func line(from a: (Double, Double), to b: (Double, Double), color: Color, thickness: Int = 1, dashed: Bool = false) {
        let length = max(abs(b.0 - a.0), abs(b.1 - a.1))
        let steps = max(1, Int((length * 2).rounded(.up)))
        let low = -(thickness - 1) / 2, high = thickness / 2
        for step in 0...steps {
            if dashed && (step / 12) % 2 == 1 { continue }
            let t = Double(step) / Double(steps)
            let x = Int((a.0 + (b.0 - a.0) * t).rounded()), y = Int((a.1 + (b.1 - a.1) * t).rounded())
            for dy in low...high { for dx in low...high { set(x: x + dx, y: y + dy, color) } }
        }
    }

    public static func textWidth(_ text: String, scale: Int = 2) -> Int { max(0, text.count * BitmapFont.advance * scale - scale) }
    public static func textHeight(scale: Int = 2) -> Int { BitmapFont.height * scale }

    /// Text with its top-left corner at (x, y).
    public mutating func text(_ text: String, x: Int, y: Int, color: Color = .black, scale: Int = 2) {
        var cursor = x
        for character in text {
            let rows = BitmapFont.rows(character)
            for (row, bits) in rows.enumerated() {
                for column in 0..<BitmapFont.width where bits & (0x10 >> UInt8(column)) != 0 {
                    fillRect(x: cursor + column * scale, y: y + row * scale, width: scale, height: scale, color: color)
                }
            }
            cursor += BitmapFont.advance * scale
        }
    }

    /// Text rotated a quarter turn counter-clockwise (reading bottom to top), its box's top-left at (x, y).
    public mutating func verticalText(_ text: String, x: Int, y: Int, color: Color = .black, scale: Int = 2) {
        let length = Self.textWidth(text, scale: scale)
        var cursor = 0
        for character in text {
            let rows = BitmapFont.rows(character)
            for (row, bits) in rows.enumerated() {
                for column in 0..<BitmapFont.width where bits & (0x10 >> UInt8(column)) != 0 {
                    // (column, row) of the upright glyph → (row, length - column) rotated.
                    fillRect(x: x + row * scale, y: y + length - (cursor + column * scale) - scale, width: scale, height: scale, color: color)
                }
            }
            cursor += BitmapFont.advance * scale
        }
    }
}
