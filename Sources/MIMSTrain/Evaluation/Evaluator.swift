import MIMSShards
import MIMSTensor

/// Scores every record of a split with the model in evaluation mode (running BatchNorm
/// statistics): all central slices of a volume form its bag.
public struct Evaluator {
    public struct Scored: Sendable {
        public var record: Int
        public var id: String
        public var patient: String
        public var label: Int
        /// Class probabilities of the bag, one per class.
        public var probabilities: [Double]

        public init(record: Int, id: String, patient: String, label: Int, probabilities: [Double]) {
            self.record = record
            self.id = id
            self.patient = patient
            self.label = label
            self.probabilities = probabilities
        }

        /// Two classes: the class-1 probability (what AUROC ranks by). More: the probability of
        /// the predicted class.
        public var score: Double { probabilities.count == 2 ? probabilities[1] : probabilities[predicted] }

        /// The class of highest probability.
        public var predicted: Int { Metrics.predictedClass(probabilities) }
    }

    public let network: Network
    public let store: ParameterStore

    public init(network: Network, store: ParameterStore) {
        self.network = network
        self.store = store
    }

    /// Class probabilities of every record of `dataset`, in record order.
    public func score(_ dataset: ShardDataset, sampler: SliceSampler, bagsPerBatch: Int = 4) throws -> [Scored] {
        let assembler = BatchAssembler(dataset: dataset, inputSize: network.pipeline.inputSize)
        return try score(dataset, sampler: sampler, bagsPerBatch: bagsPerBatch, read: assembler.batch, probabilities: probabilities)
    }

    /// Class probabilities of every record of `cache`'s dataset from its cached trunk features (a
    /// frozen trunk's evaluation: only the head runs).
    public func score(_ cache: FeatureCache, sampler: SliceSampler, bagsPerBatch: Int = 4) throws -> [Scored] {
        try score(cache.dataset, sampler: sampler, bagsPerBatch: bagsPerBatch, read: cache.batch, probabilities: probabilities)
    }

    /// Bags of all central slices, `bagsPerBatch` records at a time, read ahead on another thread.
    private func score<Batch: Sendable>(_ dataset: ShardDataset, sampler: SliceSampler, bagsPerBatch: Int,
                                        read: @escaping @Sendable ([(record: Int, slices: [Int])]) throws -> Batch,
                                        probabilities: (Batch) -> [[Double]]) throws -> [Scored] {
        let records = Array(dataset.records.indices)
        let groups = stride(from: 0, to: records.count, by: bagsPerBatch).map { Array(records[$0..<min($0 + bagsPerBatch, records.count)]) }
        let loader = PrefetchingLoader(range: 0..<groups.count, depth: 2) { index in
            try read(groups[index].map { ($0, sampler.evaluation(frames: dataset.records[$0].info.frameCount)) })
        }
        defer { loader.stop() }
        var scored: [Scored] = []
        for index in groups.indices {
            for (bag, probabilities) in zip(groups[index], probabilities(try loader.take(index))) {
                let info = dataset.records[bag].info
                scored.append(Scored(record: bag, id: info.id, patient: info.patient, label: Int(info.label), probabilities: probabilities))
            }
        }
        return scored
    }

    /// The class probabilities of one record held in memory (`predict --files`): `frameCount`
    /// frames of `shape`, its bag chosen by `sampler` as for a record of a shard.
    public func probabilities(frames: [UInt8], frameCount: Int, shape: FrameShape, sampler: SliceSampler) -> [Double] {
        let slices = sampler.evaluation(frames: frameCount)
        let input = BatchAssembler.bag(frames, firstFrame: 0, slices: slices, shape: shape, inputSize: network.pipeline.inputSize)
        return probabilities(BagBatch(input: input, bagSizes: [slices.count], labels: [Int(ShardSchema.unlabelled)], records: [0], slices: slices))[0]
    }

    /// The class probabilities of every bag of `batch`.
    public func probabilities(_ batch: BagBatch) -> [[Double]] {
        let scoring = network.scoring
        let logits = network.inferenceLogits(batch.input, store: store, bagSizes: scoring.headBagSizes(batch.bagSizes))
        return scoring.bagProbabilities(Scoring.probabilities(logits), bagSizes: batch.bagSizes)
    }

    /// The class probabilities of every bag of cached trunk features.
    public func probabilities(_ batch: FeatureBatch) -> [[Double]] {
        let scoring = network.scoring
        let tape = Tape(training: false, recordsGradients: false, precision: network.pipeline.precision)
        let logits = network.logits(ParameterBinding(store, on: tape), maps: batch.maps.map(tape.constant), bagSizes: scoring.headBagSizes(batch.bagSizes))
        return scoring.bagProbabilities(Scoring.probabilities(tape.value(logits)), bagSizes: batch.bagSizes)
    }
}
