import CDNNL

/// Stride, padding and dilation of a square-kernel 2D convolution (the same in both axes).
public struct Conv2DGeometry: Equatable, Sendable {
    public var stride: Int
    public var padding: Int
    public var dilation: Int

    public init(stride: Int = 1, padding: Int = 0, dilation: Int = 1) {
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
    }

    func output(_ size: Int, kernel: Int) -> Int {
        (size + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1
    }
}

/// 2D convolution as PyTorch's `F.conv2d` (cross-correlation, OIHW float32 weights) on oneDNN:
/// forward, backward-data and backward-weights primitives created once per shape. Weights stay
/// OIHW float32 (the master copy the optimizer updates and checkpoints store); oneDNN's blocked
/// (and in bf16, converted) copy is made per call into a reused buffer. Inputs may be float32 or
/// bf16 (``Tensor/Element``); the output is stored as the caller asks, and each gradient as the
/// value it belongs to.
public enum Conv2D {
    /// Whether 3x3 stride-1 float32 convolutions on blocked tensors use oneDNN's Winograd
    /// F(4x4, 3x3) algorithm when training (forward, backward-data, backward-weights): it cut the
    /// ResNet-101 step by about 10% here (docs/BENCHMARKS.md). Inference uses it too, with the
    /// weight transform done once per set of weights (``prepare(for:weight:bias:geometry:outputLayout:precision:residual:relu:)``).
    nonisolated(unsafe) public static var winograd = true
    /// Overrides ``winograd`` for the current task only, so a test can compare both algorithms
    /// without changing what convolutions running meanwhile in other tasks use.
    @TaskLocal public static var winogradInThisTask: Bool?

    static func shape(_ x: Tensor, weight: Tensor, hasBias: Bool, geometry: Conv2DGeometry, outputLayout: Tensor.Layout,
                      outputElement: Tensor.Element, precision: Precision, residual: Bool = false, relu: Bool = false) -> mims_conv_shape {
        precondition(x.rank == 4 && weight.rank == 4, "conv2d needs N x C x H x W input and O x C x KH x KW weights, got \(x.shape) and \(weight.shape)")
        precondition(weight.shape[1] == x.shape[1], "weight expects \(weight.shape[1]) input channels, x has \(x.shape[1])")
        precondition(weight.layout == .nchw && weight.element == .f32, "conv2d weights are OIHW float32")
    precondition(precision == .bf16 || (x.element == .f32 && outputElement == .f32), "bf16 activations need bf16 precision")
        let (kh, kw) = (weight.shape[2], weight.shape[3])
        let useWinograd = (winogradInThisTask ?? winograd) && precision == .fp32 && kh == 3 && kw == 3 && geometry.stride == 1 && geometry.dilation == 1
            && x.layout == .nChw16c && outputLayout == .nChw16c
        return mims_conv_shape(n: Int32(x.shape[0]), c: Int32(x.shape[1]), h: Int32(x.shape[2]), w: Int32(x.shape[3]),
                               o: Int32(weight.shape[0]), kh: Int32(kh), kw: Int32(kw), stride: Int32(geometry.stride),
                               padding: Int32(geometry.padding), dilation: Int32(geometry.dilation), src_layout: x.layout.code,
                               dst_layout: outputLayout.code, src_type: x.element.code, dst_type: outputElement.code, has_bias: hasBias ? 1 : 0, precision: precision.code,
                               algorithm: Int32(useWinograd ? MIMS_CONV_WINOGRAD : MIMS_CONV_DIRECT),
                               post_sum: residual ? 1 : 0, post_relu: relu ? 1 : 0)
    }

    /// y = conv(x, weight) + bias, in `outputLayout`, stored as `outputElement` (bf16 needs bf16
    /// precision: the convolution rounds its float32 sums once, as it writes them).
    public static func forward(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry: Conv2DGeometry,
                               outputLayout: Tensor.Layout = .nchw, outputElement: Tensor.Element = .f32, precision: Precision = .fp32) -> Tensor {
        var s = shape(x, weight: weight, hasBias: bias != nil, geometry: geometry, outputLayout: outputLayout, outputElement: outputElement,
                      precision: precision)
        let (oh, ow) = (geometry.output(x.shape[2], kernel: weight.shape[2]), geometry.output(x.shape[3], kernel: weight.shape[3]))
        precondition(oh > 0 && ow > 0, "conv2d output of \(x.shape) with kernel \(weight.shape) would be empty")
        var y = Tensor.uninitialized([x.shape[0], weight.shape[0], oh, ow], layout: outputLayout, element: outputElement)
        let status = x.withUnsafeData { xs in
            weight.values.withUnsafeBufferPointer { ws in
                y.withUnsafeMutableData { ys in
                    if let bias {
                        return bias.values.withUnsafeBufferPointer { bs in mims_conv_forward(&s, xs, ws.baseAddress!, bs.baseAddress!, ys) }
                    }
                    return mims_conv_forward(&s, xs, ws.baseAddress!, nil, ys)
                }
            }
        }
        Engine.check(status, "convolution of \(x.shape) by \(weight.shape)")
        return y
    }

    /// An inference convolution ready to run: its shape (input, layouts, precision, fusions), the
    /// weights already in the primitive's own format, and the bias.
    public struct PreparedWeights: @unchecked Sendable {
        var shape: mims_conv_shape
        var weights: [UInt8]
        var bias: Tensor
        var outputShape: [Int]
        var outputLayout: Tensor.Layout
        var outputElement: Tensor.Element

        /// The same prepared weights for inputs shaped like `x` (another batch or image size), when
        /// oneDNN keeps the weights in the same format for them; nil when they must be prepared anew.
        func adapted(to x: Tensor) -> PreparedWeights? {
            guard x.rank == 4, Int(shape.c) == x.shape[1], shape.src_layout == x.layout.code, shape.src_type == x.element.code else { return nil }
            var other = shape
            other.n = Int32(x.shape[0]); other.h = Int32(x.shape[2]); other.w = Int32(x.shape[3])
            var current = shape
            guard mims_conv_same_weights(&current, &other) != 0 else { return nil }
            let g = Conv2DGeometry(stride: Int(shape.stride), padding: Int(shape.padding), dilation: Int(shape.dilation))
            var result = self
            result.shape = other
            result.outputShape = [x.shape[0], outputShape[1], g.output(x.shape[2], kernel: Int(shape.kh)), g.output(x.shape[3], kernel: Int(shape.kw))]
            return result
        }

        /// Whether `x` is the input this was prepared for.
        func fits(_ x: Tensor) -> Bool {
            x.rank == 4 && Int(shape.n) == x.shape[0] && Int(shape.c) == x.shape[1] && Int(shape.h) == x.shape[2] && Int(shape.w) == x.shape[3]
                && shape.src_layout == x.layout.code && shape.src_type == x.element.code
        }
    }

    /// Prepares conv(x, weight) + bias (+ a residual) (then ReLU) for inference on inputs shaped
    /// like `x`: the weights are reordered once, here.
    public static func prepare(for x: Tensor, weight: Tensor, bias: Tensor, geometry: Conv2DGeometry, outputLayout: Tensor.Layout,
                               outputElement: Tensor.Element = .f32, precision: Precision, residual: Bool, relu: Bool) -> PreparedWeights {
        var s = shape(x, weight: weight, hasBias: true, geometry: geometry, outputLayout: outputLayout, outputElement: outputElement,
                      precision: precision, residual: residual, relu: relu)
        var prepared = [UInt8](repeating: 0, count: mims_conv_weights_size(&s))
        Engine.check(prepared.isEmpty ? -1 : 0, "inference convolution of \(x.shape) by \(weight.shape)")
        let status = weight.values.withUnsafeBufferPointer { ws in
            prepared.withUnsafeMutableBytes { out in mims_conv_prepare_weights(&s, ws.baseAddress!, out.baseAddress!) }
        }
        Engine.check(status, "weights of an inference convolution \(weight.shape)")
        let outputShape = [x.shape[0], weight.shape[0], geometry.output(x.shape[2], kernel: weight.shape[2]), geometry.output(x.shape[3], kernel: weight.shape[3])]
        return PreparedWeights(shape: s, weights: prepared, bias: bias, outputShape: outputShape, outputLayout: outputLayout,
                               outputElement: outputElement)
    }

    /// Inference only: the prepared conv(x) + bias, plus `residual` (same shape and layout as the
    /// output), then max(0, ·) when prepared with ReLU: one pass over the output instead of three
    /// (a ResNet unit with its BatchNorm folded into weight and bias). No backward.
    public static func fusedForward(_ x: Tensor, prepared: PreparedWeights, residual: Tensor?) -> Tensor {
        precondition(prepared.fits(x), "input \(x.shape) is not the one the convolution was prepared for")
        precondition((residual != nil) == (prepared.shape.post_sum != 0), "residual given to a convolution prepared \(prepared.shape.post_sum != 0 ? "with" : "without") one")
        var s = prepared.shape
        let outputShape = prepared.outputShape, outputLayout = prepared.outputLayout, outputElement = prepared.outputElement
        var y: Tensor
        if let residual {
            precondition(residual.shape == outputShape && residual.layout == outputLayout && residual.element == outputElement,
                         "residual \(residual.shape) for a \(outputShape) output")
            y = residual  // the convolution adds onto it (copied on write)
        } else {
            y = Tensor.uninitialized(outputShape, layout: outputLayout, element: outputElement)
        }
        let status = x.withUnsafeData { xs in
            prepared.weights.withUnsafeBytes { ws in
                prepared.bias.values.withUnsafeBufferPointer { bs in
                    y.withUnsafeMutableData { ys in
                        mims_conv_forward_prepared(&s, xs, ws.baseAddress!, bs.baseAddress!, ys)
                    }
                }
            }
        }
        Engine.check(status, "fused convolution of \(x.shape)")
        return y
    }

    /// Gradients of the input (when `inputGradient`; in x's layout and element type), the weight
    /// and the bias (float32) for the output gradient `gradY`.
    public static func backward(_ x: Tensor, weight: Tensor, gradY: Tensor, geometry: Conv2DGeometry, hasBias: Bool,
                                inputGradient: Bool = true, precision: Precision = .fp32)
        -> (gradX: Tensor?, gradWeight: Tensor, gradBias: Tensor?) {
        var s = shape(x, weight: weight, hasBias: hasBias, geometry: geometry, outputLayout: gradY.layout, outputElement: gradY.element,
                      precision: precision)
        var gradX: Tensor? = inputGradient ? Tensor.uninitialized(x.shape, layout: x.layout, element: x.element) : nil
        var gradW = Tensor.uninitialized(weight.shape)
        var gradB: Tensor? = hasBias ? Tensor.uninitialized([weight.shape[0]]) : nil
        let status = x.withUnsafeData { xs in
            weight.values.withUnsafeBufferPointer { ws in
                gradY.withUnsafeData { gys in
                    gradW.values.withUnsafeMutableBufferPointer { gws in
                        withOptionalData(&gradX) { gx in
                            withOptionalData(&gradB) { gb in
                                mims_conv_backward(&s, xs, ws.baseAddress!, gys, gx, gws.baseAddress!, gb?.assumingMemoryBound(to: Float.self))
                            }
                        }
                    }
                }
            }
        }
        Engine.check(status, "convolution backward of \(x.shape) by \(weight.shape)")
        return (gradX, gradW, gradB)
    }

    /// The oneDNN implementation the forward pass of this shape runs on, e.g. `jit:avx512_core`.
    public static func implementation(_ x: Tensor, weight: Tensor, geometry: Conv2DGeometry, outputLayout: Tensor.Layout = .nchw,
                                      precision: Precision = .fp32) -> String {
        var s = shape(x, weight: weight, hasBias: false, geometry: geometry, outputLayout: outputLayout, outputElement: .f32, precision: precision)
        return String(cString: mims_conv_implementation(&s))
    }

    private static func withOptionalData<R>(_ tensor: inout Tensor?, _ body: (UnsafeMutableRawPointer?) -> R) -> R {
        guard tensor != nil else { return body(nil) }
        return tensor!.withUnsafeMutableData { body($0) }
    }
}
