import MIMSTensor

/// A torchvision ResNet block named as its state_dict (`layer3.4`): conv-BN units `conv1`/`bn1`,
/// `conv2`/`bn2`(, `conv3`/`bn3`), and where the shape changes the shortcut
/// `downsample.0`/`downsample.1`. Every unit ends in ReLU; the last one adds the (downsampled)
/// input first.
public struct ResNetBlock: Layer, Equatable {
    public var name: String
    public var units: [ConvBatchNorm]
    public var downsample: ConvBatchNorm?

    public init(_ name: String, units: [ConvBatchNorm], downsample: ConvBatchNorm?) {
        self.name = name
        self.units = units
        self.downsample = downsample
    }

    /// BasicBlock: 3x3 (stride s) - BN - ReLU - 3x3 - BN, plus the (downsampled) input, ReLU.
    public static func basic(_ name: String, inputs: Int, width: Int, stride: Int, downsample: Bool) -> ResNetBlock {
        ResNetBlock(name, units: [unit(1, inputs, width, 3, Conv2DGeometry(stride: stride, padding: 1)),
                                  unit(2, width, width, 3, Conv2DGeometry(stride: 1, padding: 1))],
                    downsample: downsample ? shortcut(inputs, width, stride) : nil)
    }

    /// Bottleneck (torchvision v1.5, stride on the 3x3): 1x1 - BN - ReLU - 3x3 (stride s) - BN -
    /// ReLU - 1x1 (4 x width) - BN, plus the (downsampled) input, ReLU.
    public static func bottleneck(_ name: String, inputs: Int, width: Int, stride: Int, downsample: Bool) -> ResNetBlock {
        ResNetBlock(name, units: [unit(1, inputs, width, 1, Conv2DGeometry()),
                                  unit(2, width, width, 3, Conv2DGeometry(stride: stride, padding: 1)),
                                  unit(3, width, width * 4, 1, Conv2DGeometry())],
                    downsample: downsample ? shortcut(inputs, width * 4, stride) : nil)
    }

    static func unit(_ index: Int, _ inputs: Int, _ outputs: Int, _ kernel: Int, _ geometry: Conv2DGeometry) -> ConvBatchNorm {
        ConvBatchNorm(Conv2DLayer("conv\(index)", inputs: inputs, outputs: outputs, kernel: kernel, geometry: geometry),
                      BatchNorm2DLayer("bn\(index)", channels: outputs))
    }

    static func shortcut(_ inputs: Int, _ outputs: Int, _ stride: Int) -> ConvBatchNorm {
        ConvBatchNorm(Conv2DLayer("downsample.0", inputs: inputs, outputs: outputs, kernel: 1, geometry: Conv2DGeometry(stride: stride)),
                      BatchNorm2DLayer("downsample.1", channels: outputs))
    }

    /// Channels out of the block.
    public var outputs: Int { units[units.count - 1].conv.outputs }

    public func parameters(prefix: String) -> [ParameterSpec] {
        let p = path(prefix, name)
        return units.flatMap { $0.parameters(prefix: p) } + (downsample?.parameters(prefix: p) ?? [])
    }

    public func callAsFunction(_ parameters: ParameterBinding, _ x: Tape.Variable) -> Tape.Variable {
        let p = parameters.under(name)
        let identity = downsample.map { $0(p, x, relu: false) } ?? x
        var out = x
        for unit in units.dropLast() { out = unit(p, out, relu: true) }
        return units[units.count - 1](p, out, relu: true, residual: identity)
    }
}
