import Foundation
import MIMSConfig
import MIMSOCT
import MIMSShards
import MIMSSplit
import Yams

/// Parses and validates manifests. Every error names the key, its line and what was expected;
/// unknown keys are errors too (a misspelt `recrods_per_shard` must not be silently ignored).
public enum ManifestParser {
    /// Reads the manifest at `path`; relative roots are resolved against its folder.
    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Manifest {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ConfigError(file: path, key: "", line: 0, expected: "a manifest file, but there is no such file")
        }
        guard !isDirectory.boolValue else {
            throw ConfigError(file: path, key: "", line: 0, expected: "a manifest file (YAML), but this is a folder")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: path, key: "", line: 0, expected: "a readable manifest file (permission denied?)")
        }
        let folder = (path as NSString).deletingLastPathComponent
        return try parse(String(decoding: data, as: UTF8.self), file: path, baseFolder: folder.isEmpty ? "." : folder,
                         environment: environment)
    }

    public static func parse(_ text: String, file: String, baseFolder: String = ".",
                             environment: [String: String] = [:]) throws -> Manifest {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ConfigError(file: file, key: "", line: Field.line(of: error), expected: "valid YAML (\(error))")
        }
        guard let node, node.mapping != nil else {
            throw ConfigError(file: file, key: "", line: 1, expected: "a mapping of manifest keys (dataset, kind, source, ...)")
        }
        let top = Field(node: node, path: "", file: file)
        try top.allow(["dataset", "kind", "source", "reader", "labels", "patient", "official_split", "split", "normalize", "shards", "filter"])

        let dataset = try top.required("dataset").string()
        let kindText = try top.required("kind").string()
        guard let kind = DatasetKind(rawValue: kindText) else {
            throw try top.required("kind").error("one of image2d, volume3d")
        }

        let source = try top.required("source")
        try source.allow(["root", "include", "exclude"])
        var root = try expand(source.required("root").string(), field: try source.required("root"), environment: environment)
        if !root.hasPrefix("/") { root = baseFolder + "/" + root }
        root = (root as NSString).standardizingPath
        let include = try source.optional("include")?.strings() ?? ["**"]
        let exclude = try source.optional("exclude")?.strings() ?? []

        let readerText = try top.optional("reader")?.string() ?? "auto"
        guard let reader = ReaderChoice(rawValue: readerText) else {
            throw try top.required("reader").error("one of \(ReaderChoice.allCases.map(\.rawValue).joined(separator: ", "))")
        }

        let labelsField = try top.required("labels")
        let classes: [String]
        let labels: LabelSource
        if labelsField.node.scalar != nil {
            guard try labelsField.string() == "none" else {
                throw labelsField.error("none (unlabelled data to score), or {classes: [...], from: folder | csv | prefix, ...}")
            }
            (classes, labels) = ([], .none)
        } else {
            (classes, labels) = try parseLabels(labelsField, root: root)
        }

        var patientPattern: String? = nil
        var patientFromHeader = false
        if let patient = try top.optional("patient"), patient.node.scalar != nil {
            guard try patient.string() == "header" else { throw patient.error("header, or {regex: PATTERN}") }
            guard kind == .volume3d else { throw patient.error("{regex: PATTERN}: patient: header reads OCT export headers (volume3d)") }
            guard ![.tiff, .volume(.tiffStack), .volume(.sliceFolder)].contains(reader) else {
                throw patient.error("{regex: PATTERN}: reader \(reader.rawValue) has no patient field in its files")
            }
            patientFromHeader = true
        } else if let patient = try top.optional("patient") {
            try patient.allow(["regex"])
            let pattern = try patient.required("regex").string()
            try checkRegex(pattern, field: try patient.required("regex"))
            patientPattern = pattern
        }

        var official: OfficialSplit? = nil
        if let field = try top.optional("official_split") {
            try field.allow(["component", "map"])
            let component = try field.required("component").string()
            try checkRegex(component, field: try field.required("component"))
            let splitMap = try field.required("map").pairs()
            for pair in splitMap where !ShardSchema.splits.contains(pair.value) {
                throw try field.required("map").error("split names train, val or test, not '\(pair.value)'")
            }
            official = OfficialSplit(component: component, map: splitMap)
        }

        var split: SplitPolicy = .unlabelled
        var seed: UInt64 = 0
        if labels == .none {
            if let splitField = try top.optional("split") {
                throw splitField.error("no split section: with labels: none every record goes to the test split (remove split:)")
            }
            if let field = try top.optional("official_split") {
                throw field.error("no official_split section: with labels: none every record goes to the test split")
            }
        } else {
            (split, seed) = try parseSplit(try top.required("split"), top: top, official: official)
        }

        let normalizeField = try top.required("normalize")
        try normalizeField.allow(["size", "channels", "slices", "intensity", "min_frames"])
        var size: (height: Int, width: Int)? = nil
        if let sizeField = try normalizeField.optional("size") {
            let values = try sizeField.integers()
            guard values.count == 2, values.allSatisfy({ $0 > 0 && $0 <= 8192 }) else { throw sizeField.error("[height, width], each 1...8192") }
            size = (values[0], values[1])
        }
        let channels = try normalizeField.required("channels").integer()
        guard channels == 1 || channels == 3 else { throw try normalizeField.required("channels").error("1 or 3") }
        var slices = SliceSelection.all
        if let slicesField = try normalizeField.optional("slices") {
            if slicesField.node.scalar != nil {
                guard try slicesField.string() == "all" else { throw slicesField.error("all, or {central: N}") }
            } else {
                try slicesField.allow(["central"])
                let count = try slicesField.required("central").integer()
                guard count > 0 else { throw try slicesField.required("central").error("a positive number of slices") }
                slices = .central(count)
            }
        }
        var minFrames: Int? = nil
        if let minField = try normalizeField.optional("min_frames") {
            guard kind == .volume3d else { throw minField.error("nothing: min_frames applies to volume3d datasets only") }
            minFrames = try minField.integer()
            guard minFrames! > 0 else { throw minField.error("a positive number of frames") }
        }
        let intensityText = try normalizeField.optional("intensity")?.string() ?? "fourth-root"
        guard let intensity = IntensityTransform(rawValue: intensityText) else {
            throw try normalizeField.required("intensity").error("fourth-root or log")
        }

        var shards = ShardOptions(recordsPerShard: 1000, deflateLevel: 4)
        if let shardsField = try top.optional("shards") {
            try shardsField.allow(["records_per_shard", "compression"])
            if let records = try shardsField.optional("records_per_shard") {
                shards.recordsPerShard = try records.integer()
                guard shards.recordsPerShard > 0 else { throw records.error("a positive number of records") }
            }
            if let compression = try shardsField.optional("compression") {
                if compression.node.scalar?.string == "none" {
                    shards.deflateLevel = nil
                } else {
                    let level = try compression.integer()
                    guard (0...9).contains(level) else { throw compression.error("none, or a deflate level 0-9") }
                    shards.deflateLevel = level == 0 ? nil : level
                }
            }
        }
        var manifest = Manifest(dataset: dataset, kind: kind, root: root, include: include, exclude: exclude, reader: reader,
                        classes: classes, labels: labels, patientPattern: patientPattern, officialSplit: official, split: split,
                        seed: seed, normalize: Normalization(size: size, channels: channels, slices: slices, intensity: intensity, minFrames: minFrames),
                        shards: shards, sha256: SHA256.hex(of: Array(text.utf8)), text: text)
        manifest.patientFromHeader = patientFromHeader
        manifest.filter = try parseFilter(top, kind: kind)
        return manifest
    }

    /// A `labels:` mapping: the class list and where each record's class comes from.
    static func parseLabels(_ labelsField: Field, root: String) throws -> ([String], LabelSource) {
        try labelsField.allow(["from", "classes", "map", "file", "key", "label", "match"])
        let classes = try labelsField.required("classes").strings()
        guard classes.count >= 2, Set(classes).count == classes.count else {
            throw try labelsField.required("classes").error("at least two distinct class names")
        }
        let from = try labelsField.required("from").string()
        let map = try labelsField.optional("map")?.pairs() ?? []
        let labels: LabelSource
        switch from {
        case "folder", "prefix":
            guard !map.isEmpty else { throw labelsField.missing("map", expected: "a mapping from \(from == "folder" ? "folder-name patterns" : "file-name prefixes") to classes") }
            for pair in map where !classes.contains(pair.value) {
                throw try labelsField.required("map").error("class names from labels.classes (\(classes.joined(separator: ", "))), not '\(pair.value)'")
            }
            if from == "folder" {
                for pair in map { try checkRegex(pair.key, field: try labelsField.required("map")) }
                labels = .folder(map: map)
            } else {
                labels = .prefix(map: map)
            }
        case "csv":
            var csvFile = try labelsField.required("file").string()
            if !csvFile.hasPrefix("/") { csvFile = root + "/" + csvFile }
            let matchText = try labelsField.optional("match")?.string() ?? "stem"
            guard let match = CSVMatch(rawValue: matchText) else { throw try labelsField.required("match").error("one of stem, name, path") }
            labels = .csv(file: csvFile, key: try labelsField.required("key").string(), label: try labelsField.required("label").string(),
                          match: match, map: map)
        default:
            throw try labelsField.required("from").error("one of folder, csv, prefix")
        }
        return (classes, labels)
    }

    /// A `split:` section: the policy and its seed.
    static func parseSplit(_ splitField: Field, top: Field, official: OfficialSplit?) throws -> (SplitPolicy, UInt64) {
        try splitField.allow(["policy", "train", "val", "test", "seed", "move_fraction"])
        let seed = try splitField.optional("seed")?.unsigned() ?? 0
        let policyText = try splitField.required("policy").string()
        let split: SplitPolicy
        switch policyText {
        case "ratio":
            let train = try splitField.required("train").fraction()
            let val = try splitField.optional("val")?.fraction() ?? 0
            let test = try splitField.required("test").fraction()
            guard abs(train + val + test - 1) < 1e-9 else {
                throw try splitField.required("test").error("train + val + test = 1 (they add up to \(train + val + test))")
            }
            split = .ratio(train: train, val: val, test: test)
        case "official", "official-move":
            guard official != nil else { throw top.missing("official_split", expected: "an official_split section for split policy '\(policyText)'") }
            split = policyText == "official" ? .official : .officialMove(fraction: try splitField.required("move_fraction").fraction())
        default:
            throw try splitField.required("policy").error("one of ratio, official, official-move")
        }
        return (split, seed)
    }

    /// `${NAME}` is replaced by the environment variable; an unset one is an error.
    static func expand(_ value: String, field: Field, environment: [String: String]) throws -> String {
        var result = ""
        var rest = Substring(value)
        while let open = rest.range(of: "${") {
            result += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else { throw field.error("a closing } after ${") }
            let name = String(rest[open.upperBound..<close])
            guard let replacement = environment[name] else {
                throw field.error("environment variable \(name) to be set (used as ${\(name)})")
            }
            result += replacement
            rest = rest[rest.index(after: close)...]
        }
        return result + rest
    }

    static func checkRegex(_ pattern: String, field: Field) throws {
        do { _ = try NSRegularExpression(pattern: pattern) } catch {
            throw field.error("a valid regular expression, not '\(pattern)'")
        }
    }

}
