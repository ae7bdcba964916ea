import Foundation
import MIMSCore
import MIMSShards

extension SplitReport {
    /// Every number, for scripts (schema in docs/SPLITS.md).
    public func json() throws -> String {
        let object: [String: Any] = [
            "schema": "mims-split-report/1",
            "directory": directory, "dataset": dataset, "kind": kind, "policy": policy, "seed": seed.map { $0 as Any } ?? NSNull(),
            "classes": classNames,
            "splits": splits.map { split -> [String: Any] in
                [
                    "name": split.name, "records": split.records, "frames": split.frames, "patients": split.patients,
                    "bytes": split.bytes,
                    "class_counts": Dictionary(uniqueKeysWithValues: split.classCounts.map { (className($0.key), $0.value) }),
                    "class_ratios": Dictionary(uniqueKeysWithValues: split.classCounts.map {
                        (className($0.key), split.records > 0 ? Double($0.value) / Double(split.records) : 0)
                    }),
                    "shards": split.shards.map { ["file": $0.file, "bytes": $0.bytes, "sha256": $0.sha256] },
                ]
            },
            "moved": ["count": moved.count, "ids": moved,
                      "per_class": Dictionary(uniqueKeysWithValues: movedPerClass.map { (className($0.key), $0.value) })],
            "patient_overlap": overlaps.map { ["splits": $0.splits, "count": $0.patients.count, "patients": $0.patients, "intended": $0.intended] },
            "duplicates": duplicates.map { ["source_sha256": $0.sourceSHA256, "ids": $0.ids, "splits": $0.splits, "across_splits": $0.acrossSplits] },
            "rejected": rejected.map { ["id": $0.id, "path": $0.path, "reason": $0.reason] },
            "inconsistencies": inconsistencies,
            "split_drift": splitDrift,
            "short_volumes": shortVolumes,
            "problems": problems,
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    /// A readable table for a terminal.
    public func text() -> String {
        var lines = ["\(dataset) (\(kind)) — \(directory)", "policy: \(policy)" + (seed.map { ", seed \($0)" } ?? ""), ""]
        let classes = Set(splits.flatMap { $0.classCounts.keys }).sorted()
        var header = ["split", "records", "frames", "patients"] + classes.map(className) + ["size"]
        var rows = [header]
        for split in splits {
            rows.append([split.name, "\(split.records)", "\(split.frames)", "\(split.patients)"]
                + classes.map { label in
                    let n = split.classCounts[label] ?? 0
                    return String(format: "%d (%.1f%%)", n, split.records > 0 ? 100 * Double(n) / Double(split.records) : 0)
                } + [Self.size(split.bytes)])
        }
        let widths = (0..<header.count).map { column in rows.map { $0[column].count }.max()! }
        for (index, row) in rows.enumerated() {
            lines.append(row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  "))
            if index == 0 { lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
        }
        header.removeAll()
        lines.append("")
        for split in splits {
            for shard in split.shards { lines.append("  \(shard.file)  \(Self.size(shard.bytes))  sha256 \(shard.sha256)") }
        }
        lines.append("")
        if !moved.isEmpty {
            lines.append("moved test -> train by the policy: \(moved.count) records ("
                         + movedPerClass.sorted { $0.key < $1.key }.map { "\(className($0.key)) \($0.value)" }.joined(separator: ", ") + ")")
        }
        lines += overlapLines() + duplicateLines()
        lines.append("rejected inputs: \(rejected.count)")
        for rejection in rejected.prefix(20) { lines.append("  \(rejection.path): \(rejection.reason)") }
        if rejected.count > 20 { lines.append("  ... \(rejected.count - 20) more in rejected.jsonl") }
        for problem in inconsistencies { lines.append("inconsistent: \(problem)") }
        for line in splitDrift { lines.append("warning: rejects skewed the split: \(line)") }
        if !shortVolumes.isEmpty {
            lines.append("short volumes (fewer frames than normalize.slices asks for, kept as they are): \(shortVolumes.count)")
            for line in shortVolumes.prefix(20) { lines.append("  \(line)") }
            if shortVolumes.count > 20 { lines.append("  ... \(shortVolumes.count - 20) more") }
        }
        lines.append(problems.isEmpty ? "check: no leakage, no split holds a single class, counts agree with splits.json"
                                      : "check: \(problems.count) problem(s); run mims-split check for the list")
        return lines.joined(separator: "\n")
    }

    /// A dataset card to paste into a paper's supplement.
    public func markdown() -> String {
        var lines = ["## Dataset card: \(dataset)", "",
                     "- Kind: \(kind == "volume3d" ? "3D volumes" : "2D images"); classes: \(classNames.isEmpty ? "by index" : classNames.joined(separator: ", "))",
                     "- Split policy: \(policy)" + (seed.map { " (seed \($0))" } ?? ""),
                     "- Rejected inputs: \(rejected.count)", ""]
        let classes = Set(splits.flatMap { $0.classCounts.keys }).sorted()
        lines.append("| split | records | frames | patients | " + classes.map(className).joined(separator: " | ") + " |")
        lines.append("|---|---:|---:|---:|" + classes.map { _ in "---:|" }.joined())
        for split in splits {
            lines.append("| \(split.name) | \(split.records) | \(split.frames) | \(split.patients) | " + classes.map { label in
                let n = split.classCounts[label] ?? 0
                return String(format: "%d (%.1f%%)", n, split.records > 0 ? 100 * Double(n) / Double(split.records) : 0)
            }.joined(separator: " | ") + " |")
        }
        lines.append("")
        if !moved.isEmpty {
            lines.append("As in the paper's protocol, \(moved.count) test records were moved into train ("
                         + movedPerClass.sorted { $0.key < $1.key }.map { "\(className($0.key)): \($0.value)" }.joined(separator: ", ") + ").")
        }
        lines += overlapLines().map { "- " + $0 } + duplicateLines().map { "- " + $0 }
        lines.append("")
        lines.append("Shards (HDF5, mims shard format v1):")
        lines.append("")
        for split in splits { for shard in split.shards { lines.append("- `\(shard.file)` (\(Self.size(shard.bytes))), SHA-256 `\(shard.sha256)`") } }
        return lines.joined(separator: "\n")
    }

    func overlapLines() -> [String] {
        if overlaps.isEmpty { return ["patient overlap between splits: none"] }
        return overlaps.map { overlap in
            let list = overlap.patients.prefix(10).joined(separator: ", ") + (overlap.patients.count > 10 ? ", ..." : "")
            return "patient overlap \(overlap.splits.joined(separator: "/")): \(overlap.patients.count) patients (\(list)) — "
                + (overlap.intended ? "moved on purpose by the split policy" : "LEAKAGE")
        }
    }

    func duplicateLines() -> [String] {
        if duplicates.isEmpty { return ["duplicate source files: none"] }
        return duplicates.map { duplicate in
            "duplicate source file \(duplicate.sourceSHA256.prefix(12))…: \(duplicate.ids.joined(separator: ", "))"
                + (duplicate.acrossSplits ? " — LEAKAGE across \(Set(duplicate.splits).sorted().joined(separator: "/"))" : " (same split)")
        }
    }

    /// What `mims-split check` fails on.
    public var problems: [String] {
        var problems: [String] = []
        for overlap in overlaps where !overlap.intended {
            problems.append("patient overlap between \(overlap.splits.joined(separator: " and ")): \(overlap.patients.count) patients (\(overlap.patients.prefix(10).joined(separator: ", ")))")
        }
        for duplicate in duplicates where duplicate.acrossSplits {
            problems.append("duplicate image across splits: \(duplicate.ids.joined(separator: ", "))")
        }
        // An unlabelled set (labels: none) is data to score: one "class" is what it is.
        for split in splits where split.classCounts.filter({ $0.value > 0 }).count < 2
            && split.classCounts.keys.contains(where: { $0 != Int(ShardSchema.unlabelled) }) {
            problems.append("split \(split.name) has a single class (\(split.classCounts.keys.map { className($0) }.joined()))")
        }
        problems += inconsistencies
        return problems
    }

    static func size(_ bytes: Int) -> String {
        bytes >= 1 << 30 ? String(format: "%.2f GB", Double(bytes) / 1e9) : bytes >= 1 << 20 ? String(format: "%.1f MB", Double(bytes) / 1e6)
            : String(format: "%.1f kB", Double(bytes) / 1e3)
    }
}
