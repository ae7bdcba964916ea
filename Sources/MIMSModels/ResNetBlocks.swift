import MIMSTensor

/// torchvision's ResNet blocks on a tape, reading parameters by torchvision's names under a
/// prefix (e.g. "layer3.4"): `conv1.weight`, `bn1.*`, ..., `downsample.0.weight`, `downsample.1.*`.
public enum ResNetBlocks {
    /// BasicBlock: 3x3 (stride s) - BN - ReLU - 3x3 - BN, plus the (downsampled) input, ReLU.
    public static func basic(_ tape: Tape, _ x: Tape.Variable, prefix: String, stride: Int, downsample: Bool) -> Tape.Variable {
        let p = prefix.isEmpty ? "" : prefix + "."
        let identity = shortcut(tape, x, prefix: p, stride: stride, downsample: downsample)
        let out = unit(tape, x, p + "conv1.weight", p + "bn1", Conv2DGeometry(stride: stride, padding: 1), relu: true)
        return unit(tape, out, p + "conv2.weight", p + "bn2", Conv2DGeometry(stride: 1, padding: 1), relu: true, residual: identity)
    }

    /// Bottleneck (torchvision v1.5, stride on the 3x3): 1x1 - BN - ReLU - 3x3 (stride s) - BN -
    /// ReLU - 1x1 - BN, plus the (downsampled) input, ReLU.
    public static func bottleneck(_ tape: Tape, _ x: Tape.Variable, prefix: String, stride: Int, downsample: Bool) -> Tape.Variable {
        let p = prefix.isEmpty ? "" : prefix + "."
        let identity = shortcut(tape, x, prefix: p, stride: stride, downsample: downsample)
        var out = unit(tape, x, p + "conv1.weight", p + "bn1", Conv2DGeometry(), relu: true)
        out = unit(tape, out, p + "conv2.weight", p + "bn2", Conv2DGeometry(stride: stride, padding: 1), relu: true)
        return unit(tape, out, p + "conv3.weight", p + "bn3", Conv2DGeometry(), relu: true, residual: identity)
    }

    /// conv - BN (- + residual) (- ReLU), its output in the engine's blocked layout where the
    /// channels allow (every trunk convolution's do): activations are reordered only at the
    /// trunk's edges.
    static func unit(_ tape: Tape, _ x: Tape.Variable, _ weight: String, _ batchNorm: String, _ geometry: Conv2DGeometry,
                     relu: Bool, residual: Tape.Variable? = nil) -> Tape.Variable {
        let outputs = tape.value(tape.parameter(weight)).shape[0]
        return tape.convBatchNorm(x, weight: weight, batchNorm: batchNorm, geometry: geometry,
                                  layout: .preferred(channels: outputs), relu: relu, residual: residual)
    }

    static func shortcut(_ tape: Tape, _ x: Tape.Variable, prefix p: String, stride: Int, downsample: Bool) -> Tape.Variable {
        guard downsample else { return x }
        return unit(tape, x, p + "downsample.0.weight", p + "downsample.1", Conv2DGeometry(stride: stride), relu: false)
    }
}
