import MIMSCore

/// A define-by-run, reverse-mode autograd tape over coarse ops. Each op computes its output now
/// and records a closure that turns the output's gradient into its inputs' gradients;
/// ``backward(from:seed:)`` runs them in reverse.
///
/// One tape per training step: create it, run the forward, call backward, read the gradients.
/// The tape knows values, not names: a model's parameters come onto it through a
/// ``ParameterBinding``, which reads their gradients back by name.
public final class Tape {
    /// A value on the tape.
    public struct Variable: Hashable, Sendable {
        public let id: Int
    }

    private var values: [Tensor] = []
    private var needsGradient: [Bool] = []
    private var records: [(output: Int, inputs: [Int], backward: (Tensor) -> [Tensor?])] = []
    private var gradients: [Tensor?] = []
    /// Training mode: batch statistics in BatchNorm, running statistics updated.
    public let training: Bool

    /// False for inference: nothing is recorded for a backward pass and parameters are constants.
    public let recordsGradients: Bool

    /// The convolutions' arithmetic on this tape (``Precision``). In bf16 the blocked activations
    /// between them (and their gradients) are stored as bf16 too; the head and everything plain
    /// stay float32.
    public let precision: Precision

    /// How a convolution on this tape stores an output in `layout`: bf16 for the trunk's blocked
    /// activations in bf16 precision (half the memory and memory traffic), float32 otherwise.
    func activationElement(_ layout: Tensor.Layout) -> Tensor.Element {
        precision == .bf16 && layout == .nChw16c ? .bf16 : .f32
    }

    public init(training: Bool = true, recordsGradients: Bool = true, precision: Precision = .fp32) {
        self.training = training
        self.recordsGradients = recordsGradients
        self.precision = precision
    }

    /// A value that needs no gradient.
    public func constant(_ tensor: Tensor) -> Variable { add(tensor, gradient: false) }

    /// A value whose gradient is wanted (an input or a parameter), unless the tape records none.
    public func variable(_ tensor: Tensor) -> Variable { add(tensor, gradient: recordsGradients) }

    public func value(_ variable: Variable) -> Tensor { values[variable.id] }

    /// The gradient after ``backward(from:seed:)``; nil when nothing flowed into it.
    public func gradient(_ variable: Variable) -> Tensor? { variable.id < gradients.count ? gradients[variable.id] : nil }

    /// Forgets every gradient, so a second ``backward(from:seed:)`` (say, for a heatmap) starts clean.
    public func clearGradients() { gradients.removeAll(keepingCapacity: true) }

    /// Records an op: `forward` gives the output; `backward` maps the output gradient to one
    /// gradient per input (nil where an input needs none).
    public func record(_ inputs: [Variable], output: Tensor, backward: @escaping (Tensor) -> [Tensor?]) -> Variable {
        let needs = inputs.contains { needsGradient[$0.id] }
        let result = add(output, gradient: needs)
        if needs { records.append((result.id, inputs.map(\.id), backward)) }
        return result
    }

    /// Reverse pass from `output` with d(loss)/d(output) = `seed` (ones for a scalar loss).
    /// Intermediate results' gradients are dropped as soon as they are consumed, except those in
    /// `keeping` (a heatmap's layer); inputs and parameters keep theirs.
    public func backward(from output: Variable, seed: Tensor? = nil, keeping: Set<Variable> = []) {
        gradients = Array(repeating: nil, count: values.count)
        gradients[output.id] = seed ?? Tensor(shape: values[output.id].shape, values: [Float](repeating: 1, count: values[output.id].count))
        for record in records.reversed() {
            guard let gradient = gradients[record.output] else { continue }
            // An intermediate's gradient is dead once its producer has consumed it.
            if record.output != output.id && !keeping.contains(Variable(id: record.output)) { gradients[record.output] = nil }
            let inputGradients = record.backward(gradient)
            for (input, grad) in zip(record.inputs, inputGradients) {
                guard let grad, needsGradient[input] else { continue }
                if gradients[input] != nil {
                    Elementwise.accumulate(&gradients[input]!, grad)
                } else {
                    gradients[input] = grad
                }
            }
        }
    }

    private func add(_ tensor: Tensor, gradient: Bool) -> Variable {
        values.append(tensor)
        needsGradient.append(gradient)
        return Variable(id: values.count - 1)
    }
}

// MARK: - Ops on the tape

extension Tape {
    /// conv(x, weight) + bias in the tape's precision; the output in `layout` (the ResNet trunk
    /// asks for ``Tensor/Layout/preferred(channels:)``, everything else reads plain tensors).
    public func conv2d(_ x: Variable, weight: Variable, bias: Variable? = nil, geometry: Conv2DGeometry, layout: Tensor.Layout = .nchw) -> Variable {
        let xs = value(x), ws = value(weight), bs = bias.map(value)
        let precision = self.precision
        let y = Conv2D.forward(xs, weight: ws, bias: bs, geometry: geometry, outputLayout: layout, outputElement: activationElement(layout),
                               precision: precision)
        let inputGradient = needsGradient[x.id]
        return record([x, weight] + (bias.map { [$0] } ?? []), output: y) { gy in
            let g = Conv2D.backward(xs, weight: ws, gradY: gy, geometry: geometry, hasBias: bs != nil, inputGradient: inputGradient,
                                    precision: precision)
            return [g.gradX, g.gradWeight] + (bs != nil ? [g.gradBias] : [])
        }
    }

    /// BatchNorm2d with γ, β and running statistics `parameters`; in training the running
    /// statistics are updated there as PyTorch does (their owner, a layer, stores them back).
    /// With `relu`, max(0, BN(x)) as one fused op (the same values and gradients as
    /// `relu(batchNorm(x))`, one activation pass and tensor fewer).
    public func batchNorm(_ x: Variable, _ parameters: inout BatchNormParameters, momentum: Float = 0.1, eps: Float = 1e-5,
                          relu: Bool = false) -> Variable {
        let weight = parameters.weight, bias = parameters.bias
        let ws = value(weight), bs = value(bias)
        if !training {
            let (y, saved) = BatchNorm2D.evalForward(value(x), weight: ws, bias: bs, runningMean: parameters.runningMean,
                                                     runningVar: parameters.runningVar, eps: eps, relu: relu,
                                                     keepForBackward: recordsGradients)
            return record([x, weight, bias], output: y) { gy in [BatchNorm2D.inputGradient(gy, saved: saved, weight: ws), nil, nil] }
        }
        let (y, saved) = BatchNorm2D.trainForward(value(x), weight: ws, bias: bs, runningMean: &parameters.runningMean,
                                                  runningVar: &parameters.runningVar, momentum: momentum, eps: eps, relu: relu)
        return record([x, weight, bias], output: y) { gy in
            let g = BatchNorm2D.backward(gy, saved: saved, weight: ws, bias: bs)
            return [g.gradX, g.gradWeight, g.gradBias]
        }
    }

    /// conv - BatchNorm (- + residual) (- ReLU), a ResNet block's unit, in the tape's precision and
    /// the output in `layout`. Recorded as the separate ops when training or differentiating. In
    /// pure inference the BatchNorm is folded into the convolution (w·γ/σ, β − μ·γ/σ), the residual
    /// and ReLU run as its post-ops (one pass over the output instead of four), and `store` keeps
    /// the prepared weights under `key` (the weight's full name) until one of its tensors changes.
    public func convBatchNorm(_ x: Variable, weight: Variable, batchNorm: inout BatchNormParameters, geometry: Conv2DGeometry,
                              layout: Tensor.Layout = .nchw, relu: Bool, residual: Variable? = nil,
                              cachingIn store: ParameterStore, as key: String) -> Variable {
        if training || recordsGradients {
            let conv = conv2d(x, weight: weight, geometry: geometry, layout: layout)
            guard let residual else { return self.batchNorm(conv, &batchNorm, relu: relu) }
            return add(self.batchNorm(conv, &batchNorm), residual, relu: relu)
        }
        let input = value(x), bn = batchNorm, precision = self.precision, element = activationElement(layout)
        let prepared = store.preparedWeights(key + "@" + precision.rawValue + (residual != nil ? "+" : "") + (relu ? "r" : ""), fitting: input) {
            let (folded, bias) = BatchNorm2D.folded(value(weight), weight: value(bn.weight), bias: value(bn.bias),
                                                    runningMean: bn.runningMean, runningVar: bn.runningVar)
            return Conv2D.prepare(for: input, weight: folded, bias: bias, geometry: geometry, outputLayout: layout,
                                  outputElement: element, precision: precision, residual: residual != nil, relu: relu)
        }
        return constant(Conv2D.fusedForward(input, prepared: prepared, residual: residual.map { value($0).reordered(to: layout, element: element) }))
    }

    public func relu(_ x: Variable) -> Variable {
        let y = ReLU.forward(value(x))
        return record([x], output: y) { gy in [ReLU.backward(gy, output: y)] }
    }

    /// a + b, or with `relu` max(0, a + b) in one pass (a residual block's end).
    /// When the two differ in layout or element type, `b` is reordered to `a`'s (a block whose
    /// input arrived plain while its own convolutions write blocked).
    public func add(_ a: Variable, _ b: Variable, relu: Bool = false) -> Variable {
        let b = reorder(b, to: value(a).layout, element: value(a).element)
        let sum = Elementwise.add(value(a), value(b), relu: relu)
        guard relu else { return record([a, b], output: sum) { gy in [gy, gy] } }
        let output = sum
        return record([a, b], output: sum) { gy in
            let g = ReLU.backward(gy, output: output)
            return [g, g]
        }
    }

    public func maxPool(_ x: Variable, kernel: Int = 3, stride: Int = 2, padding: Int = 1) -> Variable {
        let shape = value(x).shape
        let (y, workspace) = MaxPool2D.forward(value(x), kernel: kernel, stride: stride, padding: padding, keepWorkspace: recordsGradients)
        return record([x], output: y) { gy in
            [MaxPool2D.backward(gy, workspace: workspace, inputShape: shape, kernel: kernel, stride: stride, padding: padding)]
        }
    }

    /// The same value in another memory layout (its gradient goes back the other way): the edges
    /// between the engine's blocked activations and ops that read plain tensors. A plain result is
    /// float32 unless `element` says otherwise (``Tensor/reordered(to:element:)``).
    public func reorder(_ x: Variable, to layout: Tensor.Layout, element: Tensor.Element? = nil) -> Variable {
        let source = value(x)
        let target = source.reordered(to: layout, element: element)
        if target.layout == source.layout && target.element == source.element { return x }
        let (sourceLayout, sourceElement) = (source.layout, source.element)
        return record([x], output: target) { gy in [gy.reordered(to: sourceLayout, element: sourceElement)] }
    }

    public func resize(_ x: Variable, height: Int, width: Int) -> Variable {
        let shape = value(x).shape
        if shape[2] == height && shape[3] == width { return x }
        return record([x], output: BilinearResize2D.forward(value(x), height: height, width: width)) { gy in
            [BilinearResize2D.backward(gy, inputShape: shape)]
        }
    }

    public func linear(_ x: Variable, weight: Variable, bias: Variable?) -> Variable {
        let xs = value(x), ws = value(weight)
        let y = Linear.forward(xs, weight: ws, bias: bias.map(value))
        return record([x, weight] + (bias.map { [$0] } ?? []), output: y) { gy in
            let g = Linear.backward(xs, weight: ws, gradY: gy)
            return [g.gradX, g.gradWeight] + (bias != nil ? [g.gradBias] : [])
        }
    }

    /// Mean softmax cross-entropy; a scalar of shape [1].
    public func crossEntropy(_ logits: Variable, labels: [Int]) -> Variable {
        let (loss, gradLogits) = SoftmaxCrossEntropy.lossAndGradient(logits: value(logits), labels: labels)
        return record([logits], output: Tensor(shape: [1], values: [loss])) { gy in
            [Tensor(shape: gradLogits.shape, values: gradLogits.values.map { $0 * gy.values[0] })]
        }
    }
}
