import MIMSTensor

/// Scores every record of a split with the model in evaluation mode (running BatchNorm
/// statistics): all central slices of a volume form its bag.
public struct Evaluator {
    public struct Scored: Sendable {
        public var record: Int
        public var id: String
        public var patient: String
        public var label: Int
        public var score: Double
    }

    public let network: Network
    public let store: ParameterStore

    public init(network: Network, store: ParameterStore) {
        self.network = network
        self.store = store
    }

    /// Class-1 scores of every record of `dataset`, in record order.
    public func score(_ dataset: ShardDataset, sampler: SliceSampler, bagsPerBatch: Int = 4) throws -> [Scored] {
        let assembler = BatchAssembler(dataset: dataset, inputSize: network.pipeline.inputSize)
        let records = Array(dataset.records.indices)
        let groups = stride(from: 0, to: records.count, by: bagsPerBatch).map { Array(records[$0..<min($0 + bagsPerBatch, records.count)]) }
        let loader = PrefetchingLoader(range: 0..<groups.count, depth: 2) { index in
            try assembler.batch(groups[index].map { ($0, sampler.evaluation(frames: dataset.records[$0].info.frameCount)) })
        }
        defer { loader.stop() }
        var scored: [Scored] = []
        for index in groups.indices {
            let batch = try loader.take(index)
            for (bag, score) in zip(batch.records, scores(batch)) {
                let info = dataset.records[bag].info
                scored.append(Scored(record: bag, id: info.id, patient: info.patient, label: Int(info.label), score: score))
            }
        }
        return scored
    }

    /// One score per bag of `batch`.
    public func scores(_ batch: BagBatch) -> [Double] {
        let scoring = network.scoring
        let logits = network.inferenceLogits(batch.input, store: store, bagSizes: scoring.headBagSizes(batch.bagSizes))
        return scoring.scores(Scoring.classOneProbabilities(logits), bagSizes: batch.bagSizes)
    }
}
