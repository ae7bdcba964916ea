import Foundation
import MIMSCore
import MIMSShards
import MIMSTensor

/// The trunk's feature maps of every record of a dataset, computed once in evaluation mode
/// (running BatchNorm statistics) over each record's central slices and kept in an HDF5 file
/// beside the run: what `backbone.trainable: false` trains the head from (docs/TRAINING.md,
/// "Frozen-feature training").
///
/// A frozen trunk gives a slice the same maps at every iteration, so computing them once replaces
/// the trunk's forward and backward passes of every step by a read. The slice sampler draws from
/// the cached window (``SliceSampler/centralRange(frames:)``), so a frozen run draws the same
/// records and slices as a full run of the same seed.
///
/// The file (`RUN/features-<split>.h5`):
/// - `/maps/<m>`: float32 [rows, C, h, w] for map m (pyramid level x feature layer, the order the
///   head reads them), one row per cached slice, chunked one row per chunk;
/// - `/records/id`, `/records/first_row`, `/records/first_frame`, `/records/rows`: where each record's
///   rows start and which frame the first one is;
/// - root attributes `format` and `identity`: what the features were computed from (shard set,
///   records, trunk architecture and weights, input size, window, precision, engine), so a
///   resumed run reuses the file and any change rebuilds it.
/// It is written to `.part`, fsynced and renamed: a killed run never leaves a half cache.
public final class FeatureCache: @unchecked Sendable {
    public static let format = "mims-feature-cache 1"

    public let path: String
    /// The records the rows belong to, in dataset order.
    public let dataset: ShardDataset
    /// [C, h, w] of each map.
    public let mapShapes: [[Int]]
    /// First row and cached frame window of each record.
    let firstRow: [Int]
    let window: [Range<Int>]
    private let file: HDF5File
    private let maps: [HDF5Dataset]
    private let lock = NSLock()

    /// Opens the cache at `path` when it was computed from exactly the identity of `dataset` and
    /// `trunk`, else computes it (replacing any stale file) with `network`'s trunk and `store`'s
    /// weights, which `trunk` must describe.
    public static func openOrBuild(path: String, dataset: ShardDataset, network: Network, store: ParameterStore, sampler: SliceSampler,
                                   trunk: TrunkIdentity, log: (String) -> Void) throws -> FeatureCache {
        let identity = Self.identity(dataset: dataset, trunk: trunk)
        if FileManager.default.fileExists(atPath: path) {
            do {
                let cache = try FeatureCache(path: path, dataset: dataset, sampler: sampler, identity: identity)
                log("reusing the trunk features of \(dataset.split) in \(path)")
                return cache
            } catch {
                log("\(ReadableError.describe(error)); computing the trunk features again")
            }
        }
        try build(path: path, dataset: dataset, network: network, store: store, sampler: sampler, identity: identity, log: log)
        return try FeatureCache(path: path, dataset: dataset, sampler: sampler, identity: identity)
    }

    /// Opens a cache and checks it holds `dataset`'s windows under `identity`.
    init(path: String, dataset: ShardDataset, sampler: SliceSampler, identity: String) throws {
        func invalid(_ reason: String) -> TrainingError { .featureCache(path: path, reason: reason) }
        self.path = path
        self.dataset = dataset
        do {
            file = try HDF5File.open(path)
            let root = try file.root()
            guard root.hasAttribute("format"), try root.stringAttribute("format") == Self.format else { throw invalid("not a \(Self.format) file") }
            guard root.hasAttribute("identity"), try root.stringAttribute("identity") == identity else { throw invalid("computed from other trunk weights, records or settings") }
            let records = try root.group("records")
            let ids = try records.dataset("id").readStrings()
            let rows = try records.dataset("first_row").read(as: Int64.self).map(Int.init)
            let frames = try records.dataset("first_frame").read(as: Int64.self).map(Int.init)
            let counts = try records.dataset("rows").read(as: Int64.self).map(Int.init)
            let expected = dataset.records.map { sampler.centralRange(frames: $0.info.frameCount) }
            guard ids == dataset.records.map(\.info.id), frames == expected.map(\.lowerBound), counts == expected.map(\.count),
                  rows.count == counts.count else { throw invalid("its records differ from the \(dataset.split) split's") }
            let group = try root.group("maps")
            var opened: [HDF5Dataset] = [], shapes: [[Int]] = []
            while group.contains(String(opened.count)) {
                let map = try group.dataset(String(opened.count))
                let shape = try map.shape()
                guard shape.count == 4, shape[0] == counts.reduce(0, +) else { throw invalid("map \(opened.count) has shape \(shape)") }
                opened.append(map)
                shapes.append(Array(shape.dropFirst()))
            }
            guard !opened.isEmpty else { throw invalid("holds no maps") }
            maps = opened
            mapShapes = shapes
            firstRow = rows
            window = expected
        } catch let error as TrainingError {
            throw error
        } catch {
            throw invalid("cannot read it (\(ReadableError.describe(error)))")
        }
    }

    /// Reads the maps of bags of cached slices: `choices` name a record and ascending frames of
    /// its window each.
    public func batch(_ choices: [(record: Int, slices: [Int])]) throws -> FeatureBatch {
        let total = choices.reduce(0) { $0 + $1.slices.count }
        var tensors: [Tensor] = []
        lock.lock()
        defer { lock.unlock() }
        for (m, map) in maps.enumerated() {
            let perRow = mapShapes[m].reduce(1, *)
            var values = [Float](repeating: 0, count: total * perRow)
            var row = 0
            try values.withUnsafeMutableBufferPointer { out in
                for choice in choices {
                    let window = window[choice.record], first = choice.slices.first!, span = choice.slices.last! - first + 1
                    precondition(window.contains(first) && window.contains(first + span - 1), "slices outside the cached window")
                    let start = firstRow[choice.record] + first - window.lowerBound
                    if span == choice.slices.count {
                        // Consecutive slices (every evaluation bag): straight into the batch.
                        try map.read(into: UnsafeMutableBufferPointer(rebasing: out[row * perRow..<(row + span) * perRow]),
                                     start: [start, 0, 0, 0], count: [span] + mapShapes[m])
                        row += span
                        continue
                    }
                    var block = [Float](repeating: 0, count: span * perRow)
                    try block.withUnsafeMutableBufferPointer { try map.read(into: $0, start: [start, 0, 0, 0], count: [span] + mapShapes[m]) }
                    for s in choice.slices {
                        let from = (s - first) * perRow
                        for i in 0..<perRow { out[row * perRow + i] = block[from + i] }
                        row += 1
                    }
                }
            }
            tensors.append(Tensor(shape: [total] + mapShapes[m], values: values))
        }
        return FeatureBatch(maps: tensors, bagSizes: choices.map(\.slices.count),
                            labels: choices.map { Int(dataset.records[$0.record].info.label) },
                            records: choices.map(\.record), slices: choices.flatMap(\.slices))
    }

    /// What every cache of a run shares: the trunk's architecture and a hash of its weights, the
    /// input size, window, precision and engine. Hashing the weights reads the whole trunk, so a
    /// run (whose trunk is frozen) computes this once and passes it for each split's cache.
    public struct TrunkIdentity: Sendable {
        let fields: [String: String]

        public init(network: Network, store: ParameterStore, sampler: SliceSampler) {
            var weights = SHA256()
            for name in store.tensors.keys.sorted() where name.hasPrefix("backbone.") {
                let tensor = store.tensors[name]!.reordered(to: .nchw)
                weights.update(Array("\(name) \(tensor.shape)\n".utf8))
                tensor.values.withUnsafeBytes { weights.update($0) }
            }
            let pipeline = network.pipeline
            fields = [
                "trunk": "resnet\(network.trunk.depth.rawValue) layers \(network.featureLayers) pyramid \(network.pyramid)",
                "trunk_sha256": weights.finalizeHex(),
                "input_size": "\(pipeline.inputSize)",
                "central_slices": String(sampler.central),
                "precision": pipeline.precision.rawValue,
                "engine": Engine.summary,
            ]
        }
    }

    /// What the features of `dataset` depend on, as one JSON text: its shard set, split and
    /// records, and the run's `trunk`.
    static func identity(dataset: ShardDataset, trunk: TrunkIdentity) -> String {
        var records = SHA256()
        for record in dataset.records { records.update(Array("\(record.info.id)\t\(record.info.frameCount)\n".utf8)) }
        var fields = trunk.fields
        fields["shard_set"] = ShardSetIdentity.of(folder: dataset.folder)
        fields["split"] = dataset.split
        fields["records_sha256"] = records.finalizeHex()
        return JSONText.object(fields.mapValues(JSONText.string))
    }

    /// Rows of trunk features computed per group of at most `chunk` slices, across records.
    static func build(path: String, dataset: ShardDataset, network: Network, store: ParameterStore, sampler: SliceSampler,
                      identity: String, log: (String) -> Void, chunk: Int = 8) throws {
        let windows = dataset.records.map { sampler.centralRange(frames: $0.info.frameCount) }
        var firstRows: [Int] = [], total = 0
        for window in windows { firstRows.append(total); total += window.count }
        // Groups of rows in row order; a group may span records.
        var groups: [[(record: Int, slices: [Int])]] = [], current: [(record: Int, slices: [Int])] = [], filled = 0
        for (record, window) in windows.enumerated() {
            var frames = Array(window)
            while !frames.isEmpty {
                let take = min(chunk - filled, frames.count)
                current.append((record, Array(frames.prefix(take))))
                frames.removeFirst(take)
                filled += take
                if filled == chunk { groups.append(current); current = []; filled = 0 }
            }
        }
        if !current.isEmpty { groups.append(current) }
        let started = Date()
        log("computing the trunk features of \(total) slices (\(dataset.records.count) \(dataset.split) records) once -> \(path)")
        let assembler = BatchAssembler(dataset: dataset, inputSize: network.pipeline.inputSize)
        let work = groups
        let loader = PrefetchingLoader(range: 0..<work.count, depth: 2) { try assembler.batch(work[$0]) }
        defer { loader.stop() }
        let part = path + ".part"
        var file: HDF5File?
        var maps: [HDF5Dataset] = []
        var row = 0
        do {
            for index in groups.indices {
                let batch = try loader.take(index)
                let tape = Tape(training: false, recordsGradients: false, precision: network.pipeline.precision)
                let outputs = network.primaryMaps(ParameterBinding(store, on: tape), tape.constant(batch.input)).map { tape.value($0).reordered(to: .nchw) }
                if file == nil {
                    let rowBytes = outputs.reduce(0) { $0 + $1.count / $1.shape[0] } * MemoryLayout<Float>.size
                    try Self.checkSpace(for: rowBytes * total, at: path)
                    file = try HDF5File.create(part)
                    let root = try file!.root()
                    try root.setAttribute("format", Self.format)
                    try root.setAttribute("identity", identity)
                    let group = try root.createGroup("maps")
                    maps = try outputs.enumerated().map { m, output in
                        let shape = Array(output.shape.dropFirst())
                        return try group.createDataset(String(m), of: Float.self, shape: [total] + shape, chunk: [1] + shape)
                    }
                    let records = try root.createGroup("records")
                    try records.createStringDataset("id", values: dataset.records.map(\.info.id))
                    for (name, values) in [("first_row", firstRows), ("first_frame", windows.map(\.lowerBound)), ("rows", windows.map(\.count))] {
                        try records.createDataset(name, of: Int64.self, shape: [values.count]).write(values.map(Int64.init))
                    }
                }
                let rows = outputs[0].shape[0]
                for (map, output) in zip(maps, outputs) {
                    try output.values.withUnsafeBufferPointer { try map.write($0, start: [row, 0, 0, 0], count: output.shape) }
                }
                row += rows
            }
            maps = []
            try file?.close()
            file = nil
            try FileDurability.publish(part, as: path)
        } catch {
            maps = []
            file = nil
            FileDurability.remove(part)
            if let error = error as? TrainingError { throw error }
            throw TrainingError.featureCache(path: path, reason: "cannot write it (\(ReadableError.describe(error)))")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int ?? 0
        log(String(format: "trunk features of %d slices computed in %.1f s (%.1f MB)", total, Date().timeIntervalSince(started), Double(size) / 1e6))
    }

    /// Refuses to start a cache the disk cannot hold, before any time is spent on it.
    static func checkSpace(for bytes: Int, at path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        guard let free = (try? FileManager.default.attributesOfFileSystem(forPath: folder.isEmpty ? "." : folder))?[.systemFreeSize] as? Int else { return }
        if bytes > free {
            throw TrainingError.featureCache(path: path, reason: String(format: "needs %.1f GB and the disk has %.1f GB free; free space, or train the backbone (backbone.trainable: true)",
                                                                        Double(bytes) / 1e9, Double(free) / 1e9))
        }
    }
}
