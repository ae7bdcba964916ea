import MIMSCore
/// Where a planted lesion lies in one frame: rows y0..<y1, columns x0..<x1.
public struct LesionBox: Equatable, Sendable {
    public var id: String
    public var frame: Int
    public var y0: Int
    public var x0: Int
    public var y1: Int
    public var x1: Int

    public init(id: String, frame: Int, y0: Int, x0: Int, y1: Int, x1: Int) {
        self.id = id
        self.frame = frame
        self.y0 = y0
        self.x0 = x0
        self.y1 = y1
        self.x1 = x1
    }

    /// The box in a frame resized from `from` to `to` (height, width): the smallest box of whole
    /// pixels covering the scaled one.
    public func resized(from: (Int, Int), to: (Int, Int)) -> LesionBox {
        let sy = Double(to.0) / Double(from.0), sx = Double(to.1) / Double(from.1)
        func low(_ v: Int, _ s: Double) -> Int { Int((Double(v) * s).rounded(.down)) }
        func high(_ v: Int, _ s: Double, _ limit: Int) -> Int { min(limit, Int((Double(v) * s).rounded(.up))) }
        return LesionBox(id: id, frame: frame, y0: low(y0, sy), x0: low(x0, sx), y1: high(y1, sy, to.0), x1: high(x1, sx, to.1))
    }

    var json: [String: Any] { ["id": id, "frame": frame, "y0": y0, "x0": x0, "y1": y1, "x1": x1] }
}

/// A disc-shaped lesion in frame coordinates.
struct Blob: Sendable {
    var y: Double
    var x: Double
    var radiusY: Double
    var radiusX: Double

    func contains(_ py: Int, _ px: Int) -> Bool {
        let dy = (Double(py) - y) / radiusY, dx = (Double(px) - x) / radiusX
        return dy * dy + dx * dx <= 1
    }

    /// Pixels whose centre lies inside, as a half-open box clipped to the frame.
    func box(id: String, frame: Int, height: Int, width: Int) -> LesionBox {
        LesionBox(id: id, frame: frame, y0: max(0, Int((y - radiusY).rounded(.up))), x0: max(0, Int((x - radiusX).rounded(.up))),
                  y1: min(height, Int((y + radiusY).rounded(.down)) + 1), x1: min(width, Int((x + radiusX).rounded(.down)) + 1))
    }
}

extension SplitMix64 {
    /// Radii spread over [smallest, 6 x smallest] (log-uniform), so lesions come in several scales.
    mutating func lesionRadius(smallest: Double) -> Double { smallest * pow6(unit()) }

    private func pow6(_ u: Double) -> Double {
        // 6^u without Foundation: exp(u ln 6) by a short series is plenty for drawing.
        var result = 1.0, term = 1.0
        let x = u * 1.791759469228055
        for n in 1...12 {
            term *= x / Double(n)
            result += term
        }
        return result
    }
}
