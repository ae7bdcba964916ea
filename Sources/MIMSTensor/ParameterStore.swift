/// Named parameters and buffers (running statistics), with torchvision's names.
public final class ParameterStore {
    public var tensors: [String: Tensor] {
        didSet { generation &+= 1 }
    }

    /// Changes whenever any tensor is set: what the inference cache is valid for.
    public private(set) var generation = 0

    /// Inference-ready convolutions (BatchNorm folded in, weights in the engine's own format) by
    /// weight name, valid for `cacheGeneration`: evaluation runs the same weights over many
    /// batches, and their fold and reorder (for Winograd, a transform) would otherwise run each time.
    private var inferenceWeights: [String: Conv2D.PreparedWeights] = [:]
    private var cacheGeneration = -1

    public init(_ tensors: [String: Tensor] = [:]) {
        self.tensors = tensors
    }

    /// The prepared convolution for `name` if it is still valid and fits `shape`, else `make()`'s, kept.
    func preparedWeights(_ name: String, fitting x: Tensor, make: () -> Conv2D.PreparedWeights) -> Conv2D.PreparedWeights {
        if cacheGeneration != generation { dropInferenceCache() }
        if let cached = inferenceWeights[name] {
            if cached.fits(x) { return cached }
            // Another chunk size or image scale of the same convolution: usually the same weights.
            if let adapted = cached.adapted(to: x) {
                inferenceWeights[name] = adapted
                return adapted
            }
        }
        let prepared = make()
        inferenceWeights[name] = prepared
        return prepared
    }

    /// Frees the inference cache (training changes every weight anyway).
    public func dropInferenceCache() {
        inferenceWeights.removeAll()
        cacheGeneration = generation
    }
}
