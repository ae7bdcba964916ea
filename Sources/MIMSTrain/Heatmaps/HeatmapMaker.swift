import MIMSModels
import MIMSTensor

/// Supplement C's contribution maps (docs/MODEL.md "Heatmaps"), computed in evaluation mode: for the
/// target class c, d = dlogit_c/dX at the output of a trunk layer, T = Σ_channels d·X with
/// negatives set to zero, P = round(255 T / max T) over all slices of the bag.
public struct HeatmapMaker {
    public struct Result: Sendable {
        public var record: Int
        /// Frame index of each slice of the bag.
        public var slices: [Int]
        /// T per slice, [slices, height, width] at the layer's resolution.
        public var contribution: Tensor
        /// P per slice, same layout.
        public var quantized: [UInt8]
        /// Of the N x k values top-k pooling selected (all channels, all scales), how many each
        /// slice supplied.
        public var selectedPerSlice: [Int]
        /// Positions into `slices`, most selected first, ties to the lower slice.
        public var ranking: [Int]
        public var score: Double
    }

    public let network: Network
    public let store: ParameterStore
    /// 1-based trunk layer whose output is explained (layer2 by default: the input of layer3).
    public let layer: Int
    public let targetClass: Int

    public init(network: Network, store: ParameterStore, layer: Int = 2, targetClass: Int = 1) {
        self.network = network
        self.store = store
        self.layer = layer
        self.targetClass = targetClass
    }

    /// The heatmap of a batch holding one bag.
    public func make(_ batch: BagBatch) -> Result {
        precondition(batch.bagSizes.count == 1, "one bag at a time")
        let tape = Tape(training: false, precision: network.pipeline.precision)
        let parameters = ParameterBinding(store, on: tape)
        let (maps, explained) = network.primaryMaps(parameters, tape.constant(batch.input), explaining: layer)
        let slices = batch.bagSizes[0]
        let (logits, selections) = network.logitsAndSelections(parameters, maps: maps, bagSizes: network.scoring.headBagSizes([slices]))
        let values = tape.value(logits)
        var seed = Tensor.zeros(values.shape)
        for row in 0..<values.shape[0] { seed.values[row * values.shape[1] + targetClass] = 1 }
        tape.backward(from: logits, seed: seed, keeping: [explained])
        let x = tape.value(explained)
        let d = tape.gradient(explained) ?? Tensor.zeros(x.shape)
        let (c, h, w) = (x.shape[1], x.shape[2], x.shape[3])
        var t = Tensor.zeros([slices, h, w])
        for s in 0..<slices {
            for channel in 0..<c {
                let base = (s * c + channel) * h * w
                for i in 0..<h * w { t.values[s * h * w + i] += d.values[base + i] * x.values[base + i] }
            }
        }
        for i in 0..<t.count where t.values[i] < 0 { t.values[i] = 0 }

        var counts = [Int](repeating: 0, count: slices)
        for pooling in selections {
            for sources in pooling.selection.sources {
                for source in sources {
                    let shape = pooling.inputShapes[Int(source.input)]
                    counts[Int(source.index) / (shape[1] * shape[2] * shape[3])] += 1
                }
            }
        }
        let ranking = counts.indices.sorted { counts[$0] != counts[$1] ? counts[$0] > counts[$1] : $0 < $1 }
        // The class-1 probability with two classes (what AUROC ranks), else the target class's.
        let probabilities = network.scoring.bagProbabilities(Scoring.probabilities(values), bagSizes: [slices])[0]
        let score = probabilities.count == 2 ? probabilities[1] : probabilities[targetClass]
        return Result(record: batch.records[0], slices: batch.slices, contribution: t, quantized: HeatmapQuantizer.quantize(t.values),
                      selectedPerSlice: counts, ranking: ranking, score: score)
    }
}
