import MIMSCore
import MIMSImage

/// Synthetic colour fundus photographs: a bright optic disc, a vessel tree radiating from it and,
/// for positives, yellow lesions of several scales (radius spread 6x). Deterministic in the seed.
public struct SyntheticFundus: Sendable {
    public var width: Int
    public var height: Int

    public init(width: Int = 900, height: Int = 600) {
        self.width = width
        self.height = height
    }

    /// One image; `diseased` plants lesions the classifier can learn.
    public func image(seed: UInt64, diseased: Bool) -> Frame {
        image(seed: seed, diseased: diseased, id: "").frame
    }

    /// One image and the boxes of its planted lesions (frame 0).
    public func image(seed: UInt64, diseased: Bool, id: String) -> (frame: Frame, lesions: [LesionBox]) {
        var random = SplitMix64(seed: seed)
        let cx = Double(width) / 2, cy = Double(height) / 2
        let radius = Double(min(width, height)) * 0.47
        let discX = cx + (random.unit() - 0.5) * radius * 0.6, discY = cy + (random.unit() - 0.5) * radius * 0.3
        let vessels = (0..<8).map { _ in (angle: random.unit() * 2 * Double.pi, curl: (random.unit() - 0.5) * 0.004) }
        let scale = Double(min(width, height)) / 600
        var blobs: [Blob] = []
        if diseased {
            for _ in 0..<(3 + Int(random.unit() * 5)) {
                let r = random.lesionRadius(smallest: max(6, 4 * scale))
                let angle = random.unit() * 2 * Double.pi, distance = random.unit() * (radius * 0.75 - r)
                blobs.append(Blob(y: cy + distance * sinApprox(angle), x: cx + distance * cosApprox(angle), radiusY: r, radiusX: r))
            }
        }
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let dx = Double(x) - cx, dy = Double(y) - cy
                let r = (dx * dx + dy * dy).squareRoot()
                guard r < radius else { continue }
                let shade = 1 - 0.55 * (r / radius) * (r / radius)
                var red = 190 * shade, green = 85 * shade, blue = 40 * shade
                let ddx = Double(x) - discX, ddy = Double(y) - discY
                let dr = (ddx * ddx + ddy * ddy).squareRoot()
                if dr < 38 * scale { let k = 1 - dr / (38 * scale); red += 60 * k; green += 110 * k; blue += 70 * k }
                let theta = atan2Approx(ddy, ddx)
                for vessel in vessels {
                    var delta = theta - (vessel.angle + vessel.curl * dr)
                    delta -= (delta / (2 * Double.pi)).rounded() * 2 * Double.pi
                    if dr > 30 * scale && abs(delta) * dr < (3.5 - dr / 250) * scale { red *= 0.55; green *= 0.45; blue *= 0.5 }
                }
                for blob in blobs where blob.contains(y, x) { red = 235; green = 215; blue = 110 }
                let noise = random.unit() * 8 - 4
                let at = (y * width + x) * 3
                pixels[at] = clamp(red + noise); pixels[at + 1] = clamp(green + noise); pixels[at + 2] = clamp(blue + noise)
            }
        }
        let frame = Frame(width: width, height: height, channels: 3, pixels: pixels)
        return (frame, blobs.map { $0.box(id: id, frame: 0, height: height, width: width) })
    }

    private func clamp(_ v: Double) -> UInt8 { UInt8(max(0, min(255, v.rounded()))) }
}

/// atan2 without Foundation, accurate to about 0.005 rad: enough for drawing.
func atan2Approx(_ y: Double, _ x: Double) -> Double {
    if x == 0 && y == 0 { return 0 }
    let ax = abs(x), ay = abs(y)
    let a = min(ax, ay) / max(ax, ay)
    let s = a * a
    var r = ((-0.0464964749 * s + 0.15931422) * s - 0.327622764) * s * a + a
    if ay > ax { r = Double.pi / 2 - r }
    if x < 0 { r = Double.pi - r }
    return y < 0 ? -r : r
}

/// sin and cos by Taylor series after range reduction: enough for drawing.
func sinApprox(_ angle: Double) -> Double {
    var x = angle - (angle / (2 * Double.pi)).rounded() * 2 * Double.pi
    if x > Double.pi / 2 { x = Double.pi - x } else if x < -Double.pi / 2 { x = -Double.pi - x }
    let x2 = x * x
    return x * (1 - x2 / 6 * (1 - x2 / 20 * (1 - x2 / 42 * (1 - x2 / 72))))
}

func cosApprox(_ angle: Double) -> Double { sinApprox(angle + Double.pi / 2) }
