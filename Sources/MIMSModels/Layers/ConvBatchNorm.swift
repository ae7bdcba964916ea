import MIMSTensor

/// conv - BatchNorm (- + residual) (- ReLU): the unit ResNet blocks are made of, as two named
/// layers of the block (`conv1` and `bn1`, `downsample.0` and `downsample.1`). It runs as
/// ``Tape/convBatchNorm(_:weight:batchNorm:geometry:layout:relu:residual:cachingIn:as:)``, which
/// folds the BatchNorm into the convolution for inference, and writes the engine's blocked layout
/// where the channels allow (every trunk convolution's do): activations are reordered only at the
/// trunk's edges.
public struct ConvBatchNorm: Layer, Equatable {
    public var conv: Conv2DLayer
    public var batchNorm: BatchNorm2DLayer

    public init(_ conv: Conv2DLayer, _ batchNorm: BatchNorm2DLayer) {
        self.conv = conv
        self.batchNorm = batchNorm
    }

    public func parameters(prefix: String) -> [ParameterSpec] {
        conv.parameters(prefix: prefix) + batchNorm.parameters(prefix: prefix)
    }

    public func callAsFunction(_ parameters: ParameterBinding, _ x: Tape.Variable, relu: Bool, residual: Tape.Variable? = nil) -> Tape.Variable {
        let weights = parameters.under(conv.name)
        var state = batchNorm.bound(parameters)
        let y = parameters.tape.convBatchNorm(x, weight: weights.parameter("weight"), batchNorm: &state, geometry: conv.geometry,
                                              layout: .preferred(channels: conv.outputs), relu: relu, residual: residual,
                                              cachingIn: parameters.store, as: weights.fullName("weight"))
        batchNorm.storeBack(state, parameters)
        return y
    }
}
