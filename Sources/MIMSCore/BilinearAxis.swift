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
