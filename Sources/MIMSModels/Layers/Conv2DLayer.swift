import MIMSTensor

/// A 2D convolution layer: `weight` [outputs, inputs, kernel, kernel] and, with `hasBias`, `bias`.
/// Named `…Layer` because ``Conv2D`` is the op (oneDNN's forward and backward) it runs.
public struct Conv2DLayer: Layer, Equatable {
    public enum Initialization: Sendable, Equatable {
        /// Kaiming normal with fan_out and ReLU gain, as torchvision initializes ResNets.
        case kaimingNormal
        /// PyTorch's default: weight and bias uniform in ±1/√fan_in.
        case uniformFanIn
    }

    public var name: String
    public var inputs: Int
    public var outputs: Int
    public var kernel: Int
    /// Not a parameter: a shared kernel may run with several (MSConv's dilated branches).
    public var geometry: Conv2DGeometry
    public var hasBias: Bool
    public var initialization: Initialization

    public init(_ name: String, inputs: Int, outputs: Int, kernel: Int, geometry: Conv2DGeometry = Conv2DGeometry(), hasBias: Bool = false,
                initialization: Initialization = .kaimingNormal) {
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
        self.kernel = kernel
        self.geometry = geometry
        self.hasBias = hasBias
        self.initialization = initialization
    }

    public func parameters(prefix: String) -> [ParameterSpec] {
        let p = path(prefix, name), fanIn = Double(inputs * kernel * kernel)
        let weight: ParameterSpec.Initialization = switch initialization {
        case .kaimingNormal: .normal(std: (2.0 / Double(outputs * kernel * kernel)).squareRoot())
        case .uniformFanIn: .uniform(bound: 1 / fanIn.squareRoot())
        }
        let weightSpec = ParameterSpec(p + "weight", [outputs, inputs, kernel, kernel], weight)
        guard hasBias else { return [weightSpec] }
        return [weightSpec, ParameterSpec(p + "bias", [outputs], .uniform(bound: 1 / fanIn.squareRoot()))]
    }

    /// conv(x, weight) + bias, the output in `layout`.
    public func callAsFunction(_ parameters: ParameterBinding, _ x: Tape.Variable, layout: Tensor.Layout = .nchw) -> Tape.Variable {
        let p = parameters.under(name)
        return p.tape.conv2d(x, weight: p.parameter("weight"), bias: hasBias ? p.parameter("bias") : nil, geometry: geometry, layout: layout)
    }
}
