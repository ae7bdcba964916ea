import MIMSCore

/// Synthetic retinal OCT volumes in reader orientation (rows = depth, columns = A-scans, frames =
/// B-scans): a layered retina with a foveal pit and speckle and, for positives, dark fluid pockets
/// of several scales (radius spread 6x) spanning one to three B-scans, the look of macular edema.
public struct SyntheticRetinaOCT: Sendable {
    public var width: Int
    public var depth: Int
    public var frames: Int

    public init(width: Int, depth: Int, frames: Int) {
        self.width = width
        self.depth = depth
        self.frames = frames
    }

    /// (layer thickness as a fraction of depth, mean intensity), top to bottom below the surface.
    static let layers: [(Double, Double)] = [(0.03, 175), (0.06, 110), (0.03, 70), (0.02, 145), (0.07, 55),
                                             (0.01, 205), (0.015, 235), (0.08, 120)]

    /// Pixels (frames x depth x width) and the per-frame boxes of planted lesions.
    public func volume(seed: UInt64, diseased: Bool, id: String) -> (pixels: [UInt8], lesions: [LesionBox]) {
        var random = SplitMix64(seed: seed)
        let phase = random.unit() * 6.28, tilt = (random.unit() - 0.5) * 0.06
        var lesions: [(blob: Blob, frames: ClosedRange<Int>)] = []
        if diseased {
            for _ in 0..<(2 + Int(random.unit() * 4)) {
                // Cyst-sized: 4-25 px in a 256-px-deep small cube, 16-100 px (35-200 µm) in a full 1024-px one.
                let ry = random.lesionRadius(smallest: max(4, Double(depth) * 0.016))
                let rx = max(3, ry * Double(width) / Double(depth) * 1.5)
                let frame = Int(random.unit() * Double(frames))
                let span = Int(random.unit() * 2)
                let x = rx + random.unit() * (Double(width) - 2 * rx)
                // Inside the retina: below the inner layers, above the photoreceptors.
                let surface = surfaceDepth(x: Int(x), frame: frame, phase: phase, tilt: tilt)
                let y = surface + Double(depth) * 0.11 + random.unit() * Double(depth) * 0.03
                lesions.append((Blob(y: y, x: x, radiusY: ry, radiusX: rx), max(0, frame - span)...min(frames - 1, frame + span)))
            }
        }
        let frameSize = width * depth
        let planted = lesions
        let parts = Parallel.map(frames) { [self] frame -> [UInt8] in
            var noise = SplitMix64(seed: seed &+ UInt64(frame) &* 0x9E37_79B9)
            var pixels = [UInt8](repeating: 0, count: frameSize)
            let active = planted.filter { $0.frames.contains(frame) }.map(\.blob)
            for x in 0..<width {
                let surface = surfaceDepth(x: x, frame: frame, phase: phase, tilt: tilt)
                var bounds: [(Double, Double)] = []
                var top = surface
                for (thickness, value) in Self.layers {
                    bounds.append((top + thickness * Double(depth), value))
                    top += thickness * Double(depth)
                }
                var layer = 0
                for y in 0..<depth {
                    let d = Double(y)
                    var mean: Double
                    if d < surface {
                        mean = 18
                    } else {
                        while layer < bounds.count && d >= bounds[layer].0 { layer += 1 }
                        mean = layer < bounds.count ? bounds[layer].1 : 35
                    }
                    for blob in active where blob.contains(y, x) { mean = 12 }
                    let speckle = 0.55 + 0.9 * noise.unit()
                    pixels[y * width + x] = UInt8(max(0, min(255, (mean * speckle).rounded())))
                }
            }
            return pixels
        }
        var boxes: [LesionBox] = []
        for lesion in lesions {
            for frame in lesion.frames { boxes.append(lesion.blob.box(id: id, frame: frame, height: depth, width: width)) }
        }
        return (parts.flatMap { $0 }, boxes.sorted { ($0.frame, $0.y0, $0.x0) < ($1.frame, $1.y0, $1.x0) })
    }

    /// Depth of the inner retinal surface: a gentle curve with a foveal pit at the centre.
    func surfaceDepth(x: Int, frame: Int, phase: Double, tilt: Double) -> Double {
        let u = Double(x) / Double(width) - 0.5, v = frames > 1 ? Double(frame) / Double(frames - 1) - 0.5 : 0
        let curve = 0.25 + 0.03 * sinApprox(u * 3 + phase) + tilt * u
        let r2 = (u * u + v * v) / 0.01
        let pit = 0.05 * (1 / (1 + r2 * r2))
        return (curve + pit) * Double(depth)
    }
}
