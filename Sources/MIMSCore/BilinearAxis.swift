/// Source indices and weights along one axis of a bilinear resize, as PyTorch computes them for
/// `align_corners=False`: for output index d of an axis n -> m, s = max(0, (d + 0.5)·n/m − 0.5),
/// i0 = ⌊s⌋, i1 = min(i0 + 1, n − 1), weights 1 − λ and λ with λ = s − i0 (in Float).
public struct BilinearAxis: Sendable {
    public var i0: [Int]
    public var i1: [Int]
    public var l0: [Float]
    public var l1: [Float]

    public init(input n: Int, output m: Int) {
        let scale = Float(n) / Float(m)
        i0 = []; i1 = []; l0 = []; l1 = []
        i0.reserveCapacity(m); i1.reserveCapacity(m); l0.reserveCapacity(m); l1.reserveCapacity(m)
        for d in 0..<m {
            let s = max(0, scale * (Float(d) + 0.5) - 0.5)
            let lo = min(Int(s), n - 1)
            let hi = lo + (lo < n - 1 ? 1 : 0)
            let lambda = s - Float(lo)
            i0.append(lo); i1.append(hi); l1.append(lambda); l0.append(1 - lambda)
        }
    }
}

/// A bilinear resize of one plane, height x width to outHeight x outWidth: the one loop behind the
/// image resizes (MIMSImage `BilinearResize`, float planes and uint8 frames) and the tensor op
/// (MIMSTensor `BilinearResize2D`). Output (y, x) is
/// (1−λh)((1−λw)x00 + λw·x01) + λh((1−λw)x10 + λw·x11), computed in Float in that order.
public struct BilinearPlaneResize: Sendable {
    public let rows: BilinearAxis
    public let cols: BilinearAxis

    public init(height: Int, width: Int, outHeight: Int, outWidth: Int) {
        rows = BilinearAxis(input: height, output: outHeight)
        cols = BilinearAxis(input: width, output: outWidth)
    }

    /// Computes every output sample in row-major order: `sample(row, column)` reads the source
    /// plane, `store(y, x, value)` takes the result.
    @inlinable
    public func callAsFunction(_ sample: (_ row: Int, _ column: Int) -> Float, store: (_ y: Int, _ x: Int, _ value: Float) -> Void) {
        for y in 0..<rows.i0.count {
            let r0 = rows.i0[y], r1 = rows.i1[y], h0 = rows.l0[y], h1 = rows.l1[y]
            for x in 0..<cols.i0.count {
                let a = cols.i0[x], b = cols.i1[x], w0 = cols.l0[x], w1 = cols.l1[x]
                store(y, x, h0 * (w0 * sample(r0, a) + w1 * sample(r0, b)) + h1 * (w0 * sample(r1, a) + w1 * sample(r1, b)))
            }
        }
    }
}
