import Foundation

/// Splits are assigned before anything is decoded, so files rejected while decoding can skew them
/// (a 0.5/0.5 split of 8 volumes came out 6/2). This compares, per label, the share of each split
/// the assignment asked for with the share the written records realize.
public enum SplitDrift {
    /// One line per label and split whose written count is more than `tolerance` records away from
    /// what the requested share of the written records would be.
    public static func lines(assignment: [String: String], rejected: Set<String>, labels: [String: Int32],
                             classes: [String], tolerance: Int = 2) -> [String] {
        var requested: [Int32: [String: Int]] = [:]
        var realized: [Int32: [String: Int]] = [:]
        for (id, split) in assignment {
            guard let label = labels[id] else { continue }
            requested[label, default: [:]][split, default: 0] += 1
            if !rejected.contains(id) { realized[label, default: [:]][split, default: 0] += 1 }
        }
        var lines: [String] = []
        for label in requested.keys.sorted() {
            let asked = requested[label]!, got = realized[label] ?? [:]
            let askedTotal = asked.values.reduce(0, +), gotTotal = got.values.reduce(0, +)
            let name = label >= 0 && Int(label) < classes.count ? classes[Int(label)] : "class \(label)"
            for split in ["train", "val", "test"] where asked[split] != nil {
                let share = Double(asked[split]!) / Double(askedTotal)
                let expected = share * Double(gotTotal)
                let have = got[split] ?? 0
                if abs(Double(have) - expected) > Double(tolerance) {
                    lines.append(String(format: "%@: %@ holds %d of %d written records (%.0f%%), the split asked for %.0f%% (%.0f); %d of its %d were rejected",
                                        name, split, have, gotTotal, gotTotal == 0 ? 0 : 100 * Double(have) / Double(gotTotal),
                                        100 * share, expected, asked[split]! - have, asked[split]!))
                }
            }
        }
        return lines
    }
}
