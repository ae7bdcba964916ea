import Foundation
import MIMSCore
import MIMSImage
import MIMSOCT
import MIMSShards

/// Walks a manifest's source root: one record per included file (or per slice folder), with its
/// label, patient and official split. Nothing is decoded. Files that cannot be labelled are
/// rejections, not failures.
public enum Discovery {
    public struct Result: Sendable {
        /// Sorted by id.
        public var records: [SourceRecord]
        /// Files (or slice folders) matched by `source.include` and not excluded, and entries that
        /// would have been (broken links, special files) or could not be looked into (folders that
        /// cannot be listed): every one is a record or a rejection.
        public var matched: Int
        /// Discovery-stage rejections, each naming its own path.
        public var rejections: [Rejection]
        /// Things a user should know that reject nothing: classes without files, link loops.
        public var warnings: [String]
    }

    public static func discover(_ manifest: Manifest) throws -> Result {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: manifest.root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw IngestError.sourceMissing(root: manifest.root)
        }
        let includes = manifest.include.map(Glob.init), excludes = manifest.exclude.map(Glob.init)
        let isIncluded = { (relative: String) in
            includes.contains(where: { $0.matches(relative) }) && !excludes.contains(where: { $0.matches(relative) })
        }
        let labeler = try Labeler(manifest)
        let patient = try manifest.patientPattern.map { try NSRegularExpression(pattern: $0) }
        let official = try manifest.officialSplit.map { (regex: try NSRegularExpression(pattern: $0.component), map: $0.map) }
        let tree = SourceTreeWalker.walk(manifest.root)
        var rejections: [Rejection] = []
        var warnings: [String] = []
        var matched = 0
        for problem in tree.problems {
            switch problem.kind {
            case .file where isIncluded(problem.relative), .unlistableFolder where !excludes.contains(where: { $0.matches(problem.relative) }):
                matched += 1
                rejections.append(Rejection(id: problem.relative, path: manifest.root + "/" + problem.relative, reason: problem.reason, stage: .discovery))
            case .loop:
                warnings.append("\(problem.relative): \(problem.reason)")
            default:
                break
            }
        }
        var candidates: [(relative: String, identity: FileIdentity?)] = []
        if manifest.reader == .volume(.sliceFolder) {
            var folders = Set<String>()
            for file in tree.files {
                let lower = file.relative.lowercased()
                if [".png", ".jpg", ".jpeg", ".tif", ".tiff"].contains(where: lower.hasSuffix) {
                    folders.insert((file.relative as NSString).deletingLastPathComponent)
                }
            }
            candidates = folders.sorted().filter(isIncluded).map { ($0, nil) }
        } else {
            candidates = tree.files.filter { isIncluded($0.relative) }.map { ($0.relative, $0.identity) }
        }
        matched += candidates.count
        var records: [SourceRecord] = []
        var claimed: [String: String] = [:]
        for (relative, identity) in candidates {
            let path = manifest.root + "/" + relative
            let id = stripExtension(relative)
            let label: Int32
            switch labeler.label(relative) {
            case let .success(value): label = value
            case let .failure(reason):
                rejections.append(Rejection(id: relative, path: path, reason: reason.text, stage: .discovery))
                continue
            }
            var split: String? = nil
            if let official {
                split = officialSplit(relative, regex: official.regex, map: official.map)
                if split == nil {
                    rejections.append(Rejection(id: relative, path: path, reason: "no folder matches official_split.component '\(official.regex.pattern)'", stage: .discovery))
                    continue
                }
            }
            // Candidates come in path order, so the first of two files that differ only in their
            // extension keeps the id; the other is rejected under its own path, naming both.
            if let winner = claimed[id] {
                rejections.append(Rejection(id: relative, path: path,
                                            reason: "duplicate id '\(id)': \(relative) and \(winner) differ only in their extension; \(winner) is ingested under that id, rename one to keep both", stage: .discovery))
                continue
            }
            claimed[id] = relative
            records.append(SourceRecord(id: id, path: path, relativePath: relative, label: label,
                                        patient: patientID(relative, regex: patient) ?? id, officialSplit: split, identity: identity))
        }
        if manifest.patientFromHeader {
            // Splits are grouped by patient, so the headers are read before anything is split.
            let labelled = records
            let found = Parallel.map(labelled.count) { index -> Swift.Result<String, Rejection> in
                let record = labelled[index]
                do {
                    guard let patient = try OCTReader.headerPatientID(path: record.path, as: manifest.reader.volumeFormat) else {
                        return .failure(Rejection(id: record.relativePath, path: record.path,
                                                  reason: "patient: header, but the file records no patient id", stage: .discovery))
                    }
                    return .success(patient)
                } catch {
                    return .failure(Rejection(id: record.relativePath, path: record.path,
                                              reason: "cannot read the patient id from the header: \(ReadableError.describe(error))", stage: .discovery))
                }
            }
            var kept: [SourceRecord] = []
            for (record, result) in zip(records, found) {
                switch result {
                case let .success(patient):
                    var record = record
                    record.patient = patient
                    kept.append(record)
                case let .failure(rejection): rejections.append(rejection)
                }
            }
            records = kept
        }
        if let filter = manifest.filter {
            // Before splitting, like patient: header: a filtered-out record must not take a place in a split.
            let labelled = records
            let verdicts = Parallel.map(labelled.count) { index -> Rejection? in
                let record = labelled[index]
                do {
                    let metadata = try OCTReader.headerMetadata(path: record.path, as: manifest.reader.volumeFormat)
                    return filter.exclusion(metadata).map { Rejection(id: record.relativePath, path: record.path, reason: $0, stage: .filter) }
                } catch {
                    return Rejection(id: record.relativePath, path: record.path,
                                     reason: "cannot read the metadata filter: needs: \(ReadableError.describe(error))", stage: .discovery)
                }
            }
            records = zip(records, verdicts).filter { $0.1 == nil }.map(\.0)
            rejections += verdicts.compactMap { $0 }
        }
        let counts = Dictionary(grouping: records, by: \.label).mapValues(\.count)
        for (index, name) in manifest.classes.enumerated() where counts[Int32(index)] == nil {
            warnings.append("class '\(name)' has no files: no matched file got this label (check labels.map and the folders)")
        }
        return Result(records: records.sorted { $0.id < $1.id }, matched: matched,
                      rejections: rejections.sorted { $0.path < $1.path }, warnings: warnings)
    }

    static func stripExtension(_ relative: String) -> String {
        let name = (relative as NSString).lastPathComponent
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return relative }
        return String(relative.dropLast(name.distance(from: dot, to: name.endIndex)))
    }

    static func patientID(_ relative: String, regex: NSRegularExpression?) -> String? {
        guard let regex, let match = regex.firstMatch(in: relative, range: NSRange(relative.startIndex..., in: relative)) else { return nil }
        let range = match.numberOfRanges > 1 && match.range(at: 1).location != NSNotFound ? match.range(at: 1) : match.range
        return Range(range, in: relative).map { String(relative[$0]) }
    }

    static func officialSplit(_ relative: String, regex: NSRegularExpression, map: [KeyValue]) -> String? {
        for component in relative.split(separator: "/").dropLast().reversed().map(String.init) {
            guard let match = regex.firstMatch(in: component, range: NSRange(component.startIndex..., in: component)) else { continue }
            let range = match.numberOfRanges > 1 ? match.range(at: 1) : match.range
            guard let captured = Range(range, in: component).map({ String(component[$0]) }) else { continue }
            if let split = map.first(where: { $0.key == captured })?.value { return split }
        }
        return nil
    }
}

/// Why a file has no label.
struct LabelFailure: Error { var text: String }

/// Resolves a record's class index from a manifest's label source.
struct Labeler {
    let classes: [String]
    let source: LabelSource
    let folderPatterns: [(NSRegularExpression, String)]
    let table: [String: String]

    init(_ manifest: Manifest) throws {
        classes = manifest.classes
        source = manifest.labels
        switch manifest.labels {
        case let .folder(map):
            folderPatterns = try map.map { (try NSRegularExpression(pattern: "^(?:" + $0.key + ")$"), $0.value) }
            table = [:]
        case let .prefix(map):
            folderPatterns = []
            table = Dictionary(map.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        case .none:
            folderPatterns = []
            table = [:]
        case let .csv(file, key, label, _, map):
            folderPatterns = []
            let rows = try CSVTable.read(path: file)
            guard let keyColumn = rows.header.firstIndex(of: key) else { throw IngestError.labelFile(path: file, reason: "no column '\(key)' (columns: \(rows.header.joined(separator: ", ")))") }
            guard let labelColumn = rows.header.firstIndex(of: label) else { throw IngestError.labelFile(path: file, reason: "no column '\(label)' (columns: \(rows.header.joined(separator: ", ")))") }
            let mapping = Dictionary(map.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
            var table: [String: String] = [:]
            for (index, row) in rows.rows.enumerated() {
                guard row.count > max(keyColumn, labelColumn) else { throw IngestError.labelFile(path: file, reason: "row \(index + 2) has \(row.count) columns") }
                table[row[keyColumn]] = mapping[row[labelColumn]] ?? row[labelColumn]
            }
            self.table = table
        }
    }

    func label(_ relative: String) -> Swift.Result<Int32, LabelFailure> {
        let name = (relative as NSString).lastPathComponent
        let className: String?
        switch source {
        case .none:
            return .success(ShardSchema.unlabelled)
        case .folder:
            className = relative.split(separator: "/").dropLast().reversed().lazy.compactMap { component -> String? in
                let text = String(component)
                return folderPatterns.first { $0.0.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil }?.1
            }.first
            if className == nil { return .failure(LabelFailure(text: "no folder of '\(relative)' matches a labels.map pattern")) }
        case .prefix:
            let prefix = String(name.prefix { !$0.isNumber })
            className = table[prefix]
            if className == nil { return .failure(LabelFailure(text: "file-name prefix '\(prefix)' is not in labels.map")) }
        case let .csv(file, _, _, match, _):
            let key = match == .stem ? Discovery.stripExtension(name) : match == .name ? name : relative
            className = table[key]
            if className == nil { return .failure(LabelFailure(text: "'\(key)' has no row in \(file)")) }
        }
        guard let className, let index = classes.firstIndex(of: className) else {
            return .failure(LabelFailure(text: "label '\(className ?? "")' is not one of labels.classes"))
        }
        return .success(Int32(index))
    }
}

/// A small CSV reader (RFC 4180 quoting) for label tables.
enum CSVTable {
    static func read(path: String) throws -> (header: [String], rows: [[String]]) {
        guard let data = FileManager.default.contents(atPath: path) else { throw IngestError.labelFile(path: path, reason: "cannot read the file") }
        var rows = CSVText.rows(String(decoding: data, as: UTF8.self))
        guard !rows.isEmpty else { throw IngestError.labelFile(path: path, reason: "the file is empty") }
        let header = rows.removeFirst().map { $0.trimmingCharacters(in: .whitespaces) }
        return (header, rows.filter { !($0.count == 1 && $0[0].isEmpty) }.map { $0.map { $0.trimmingCharacters(in: .whitespaces) } })
    }

}
