import MIMSTensor

/// A fully connected layer, `weight` [outputs, inputs] and `bias` [outputs], with PyTorch's
/// default initialization (uniform in ±1/√inputs). Named `…Layer` because ``Linear`` is the op.
public struct LinearLayer: Layer, Equatable {
    public var name: String
    public var inputs: Int
    public var outputs: Int

    public init(_ name: String, inputs: Int, outputs: Int) {
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
    }

    public func parameters(prefix: String) -> [ParameterSpec] {
        let p = path(prefix, name), bound = 1 / Double(inputs).squareRoot()
        return [ParameterSpec(p + "weight", [outputs, inputs], .uniform(bound: bound)), ParameterSpec(p + "bias", [outputs], .uniform(bound: bound))]
    }

    /// x · weightᵀ + bias for x [N, inputs].
    public func callAsFunction(_ parameters: ParameterBinding, _ x: Tape.Variable) -> Tape.Variable {
        let p = parameters.under(name)
        return p.tape.linear(x, weight: p.parameter("weight"), bias: p.parameter("bias"))
    }
}
