import MIMSTensor

/// BatchNorm2d as PyTorch names it: `weight` (γ), `bias` (β), `running_mean`, `running_var`,
/// `num_batches_tracked`. The layer owns its training behaviour: batch statistics and a
/// running-statistics update in training, the running statistics in evaluation (as swift-apis'
/// `BatchNorm` does). Named `…Layer` because ``BatchNorm2D`` is the op it runs.
public struct BatchNorm2DLayer: Layer, Equatable {
    public var name: String
    public var channels: Int

    public init(_ name: String, channels: Int) {
        self.name = name
        self.channels = channels
    }

    /// γ = 1, β = 0, running mean 0 and variance 1, no batches seen.
    public func parameters(prefix: String) -> [ParameterSpec] {
        let p = path(prefix, name)
        return [ParameterSpec(p + "weight", [channels], .constant(1)), ParameterSpec(p + "bias", [channels], .constant(0)),
                ParameterSpec(p + "running_mean", [channels], .constant(0)), ParameterSpec(p + "running_var", [channels], .constant(1)),
                ParameterSpec(p + "num_batches_tracked", [], .constant(0))]
    }

    /// BN(x), with `relu` max(0, BN(x)) in one pass.
    public func callAsFunction(_ parameters: ParameterBinding, _ x: Tape.Variable, relu: Bool = false) -> Tape.Variable {
        var state = bound(parameters)
        let y = parameters.tape.batchNorm(x, &state, relu: relu)
        storeBack(state, parameters)
        return y
    }

    /// γ and β on the tape and the running statistics as they are now (a pyramid's second level
    /// sees the update of its first, as in PyTorch).
    func bound(_ parameters: ParameterBinding) -> BatchNormParameters {
        let p = parameters.under(name)
        return BatchNormParameters(weight: p.parameter("weight"), bias: p.parameter("bias"), runningMean: p.tensor("running_mean"),
                                   runningVar: p.tensor("running_var"))
    }

    /// After a training-mode pass: the updated running statistics into the store and one more
    /// batch counted. Evaluation writes nothing (a write would invalidate the inference cache).
    func storeBack(_ state: BatchNormParameters, _ parameters: ParameterBinding) {
        guard parameters.tape.training else { return }
        let p = parameters.under(name)
        p.update("running_mean", to: state.runningMean)
        p.update("running_var", to: state.runningVar)
        if let tracked = p.optionalTensor("num_batches_tracked") {
            p.update("num_batches_tracked", to: Tensor(shape: tracked.shape, values: [tracked.values[0] + 1]))
        }
    }
}
