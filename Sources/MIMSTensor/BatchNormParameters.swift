/// What a BatchNorm reads besides its input: γ and β as values on the tape (they get gradients)
/// and the running statistics as plain tensors (training updates them, nothing differentiates
/// them). The caller owns them: ``Tape/batchNorm(_:_:momentum:eps:relu:)`` updates this value and
/// the layer that read it from a store writes it back.
public struct BatchNormParameters {
    public var weight: Tape.Variable
    public var bias: Tape.Variable
    public var runningMean: Tensor
    public var runningVar: Tensor

    public init(weight: Tape.Variable, bias: Tape.Variable, runningMean: Tensor, runningVar: Tensor) {
        self.weight = weight
        self.bias = bias
        self.runningMean = runningMean
        self.runningVar = runningVar
    }
}
