import MIMSCore

/// Synthetic H&E histology tiles: eosin background with texture and scattered nuclei; tiles of
/// class k > 0 carry dense clusters of small dark nuclei of several scales (radius spread 6x),
/// coloured by their class (class 1 the lymphocytes' dark purple), so that more than two classes
/// stay separable.
public struct SyntheticHistology: Sendable {
    public var size: Int

    public init(size: Int = 224) { self.size = size }

    /// Cluster nuclei colour of classes 1, 2, ...; class 0 has no clusters.
    static let clusterColours: [(Double, Double, Double)] = [(55, 25, 95), (120, 20, 35), (25, 75, 45), (30, 40, 120), (110, 80, 10), (15, 15, 15)]

    /// A tile of class `label` (0 ..< clusterColours.count + 1).
    public func tile(seed: UInt64, label: Int, id: String) -> (pixels: [UInt8], lesions: [LesionBox]) {
        precondition(label >= 0 && label <= Self.clusterColours.count, "synthetic histology has \(Self.clusterColours.count + 1) classes")
        let positive = label > 0
        var random = SplitMix64(seed: seed)
        let waves = (0..<3).map { _ in (fx: random.unit() * 0.08, fy: random.unit() * 0.08, p: random.unit() * 6.28) }
        var nuclei: [(Blob, Int)] = (0..<(40 + Int(random.unit() * 40))).map { _ in
            let r = 2.5 + random.unit() * 3
            return (Blob(y: random.unit() * Double(size), x: random.unit() * Double(size), radiusY: r, radiusX: r * (0.7 + random.unit() * 0.6)), 0)
        }
        var clusters: [Blob] = []
        if positive {
            for _ in 0..<(1 + Int(random.unit() * 3)) {
                let r = random.lesionRadius(smallest: Double(size) * 0.036)
                let cluster = Blob(y: r + random.unit() * (Double(size) - 2 * r), x: r + random.unit() * (Double(size) - 2 * r), radiusY: r, radiusX: r)
                clusters.append(cluster)
                for _ in 0..<Int(r * r / 6) {
                    let a = random.unit() * 6.283, d = r * random.unit().squareRoot() * 0.92
                    nuclei.append((Blob(y: cluster.y + d * sinApprox(a), x: cluster.x + d * cosApprox(a), radiusY: 1.8, radiusX: 1.8), label))
                }
            }
        }
        var pixels = [UInt8](repeating: 0, count: size * size * 3)
        for y in 0..<size {
            for x in 0..<size {
                var texture = 0.0
                for w in waves { texture += sinApprox(Double(x) * w.fx + Double(y) * w.fy + w.p) }
                var rgb = (232 + 6 * texture, 168 + 10 * texture, 200 + 6 * texture)
                for (blob, kind) in nuclei where abs(Double(y) - blob.y) <= blob.radiusY && blob.contains(y, x) {
                    rgb = kind == 0 ? (110, 60, 150) : Self.clusterColours[kind - 1]
                }
                let n = random.unit() * 12 - 6
                let at = (y * size + x) * 3
                pixels[at] = UInt8(max(0, min(255, rgb.0 + n)))
                pixels[at + 1] = UInt8(max(0, min(255, rgb.1 + n)))
                pixels[at + 2] = UInt8(max(0, min(255, rgb.2 + n)))
            }
        }
        return (pixels, clusters.map { $0.box(id: id, frame: 0, height: size, width: size) })
    }
}
