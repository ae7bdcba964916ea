import MIMSTensor

/// torchvision's ResNet blocks on a tape, reading parameters by torchvision's names under a
/// prefix (e.g. "layer3.4"): `conv1.weight`, `bn1.*`, ..., `downsample.0.weight`, `downsample.1.*`.
public enum ResNetBlocks {
    /// BasicBlock: 3x3 (stride s) - BN - ReLU - 3x3 - BN, plus the (downsampled) input, ReLU.
    public static func basic(_ tape: Tape, _ x: Tape.Variable, prefix: String, stride: Int, downsample: Bool) -> Tape.Variable {
        let p = prefix.isEmpty ? "" : prefix + "."
        var out = conv(tape, x, p + "conv1.weight", Conv2DGeometry(stride: stride, padding: 1))
        out = tape.batchNorm(out, prefix: p + "bn1", relu: true)
        out = conv(tape, out, p + "conv2.weight", Conv2DGeometry(stride: 1, padding: 1))
        out = tape.batchNorm(out, prefix: p + "bn2")
        return tape.add(out, shortcut(tape, x, prefix: p, stride: stride, downsample: downsample), relu: true)
    }

    /// Bottleneck (torchvision v1.5, stride on the 3x3): 1x1 - BN - ReLU - 3x3 (stride s) - BN -
    /// ReLU - 1x1 - BN, plus the (downsampled) input, ReLU.
    public static func bottleneck(_ tape: Tape, _ x: Tape.Variable, prefix: String, stride: Int, downsample: Bool) -> Tape.Variable {
        let p = prefix.isEmpty ? "" : prefix + "."
        var out = conv(tape, x, p + "conv1.weight", Conv2DGeometry())
        out = tape.batchNorm(out, prefix: p + "bn1", relu: true)
        out = conv(tape, out, p + "conv2.weight", Conv2DGeometry(stride: stride, padding: 1))
        out = tape.batchNorm(out, prefix: p + "bn2", relu: true)
        out = conv(tape, out, p + "conv3.weight", Conv2DGeometry())
        out = tape.batchNorm(out, prefix: p + "bn3")
        return tape.add(out, shortcut(tape, x, prefix: p, stride: stride, downsample: downsample), relu: true)
    }

    /// A convolution whose output stays in the engine's blocked layout where its channels allow
    /// (every trunk convolution does): activations are reordered only at the trunk's edges.
    static func conv(_ tape: Tape, _ x: Tape.Variable, _ name: String, _ geometry: Conv2DGeometry) -> Tape.Variable {
        let weight = tape.parameter(name)
        return tape.conv2d(x, weight: weight, geometry: geometry, layout: .preferred(channels: tape.value(weight).shape[0]))
    }

    static func shortcut(_ tape: Tape, _ x: Tape.Variable, prefix p: String, stride: Int, downsample: Bool) -> Tape.Variable {
        guard downsample else { return x }
        let projected = conv(tape, x, p + "downsample.0.weight", Conv2DGeometry(stride: stride))
        return tape.batchNorm(projected, prefix: p + "downsample.1")
    }
}
