/// Supplement C's contribution-map scaling: negatives to zero, P = round(255 T / max T) with
/// rounding half to even, all zeros when max T = 0. The maximum runs over every slice of the bag.
public enum HeatmapQuantizer {
    public static func quantize(_ t: [Float]) -> [UInt8] {
        let top = t.reduce(0) { Swift.max($0, $1) }
        guard top > 0 else { return [UInt8](repeating: 0, count: t.count) }
        return t.map { UInt8((255 * Double(Swift.max(0, $0)) / Double(top)).rounded(.toNearestOrEven)) }
    }
}
