/// A learning rate for the parameters whose names start with `prefix` (the longest matching prefix
/// wins; "" matches every name). The paper trains the backbone at half the head's rate:
/// `[ParameterGroup(prefix: "backbone.", learningRate: 0.005), ParameterGroup(prefix: "head.", learningRate: 0.01)]`.
public struct ParameterGroup: Equatable, Sendable {
    public var prefix: String
    public var learningRate: Float

    public init(prefix: String, learningRate: Float) {
        self.prefix = prefix
        self.learningRate = learningRate
    }
}

/// PyTorch's `torch.optim.SGD` and `torch.optim.Adam` (L2 weight decay added to the gradient),
/// updating a ``ParameterStore`` in place by name. Buffers and state are keyed by parameter name
/// so they can be saved and restored for an exact `--resume`.
public struct Optimizer: Sendable {
    public enum Kind: Equatable, Sendable {
        case sgd(momentum: Float, nesterov: Bool = false)
        case adam(beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8)
    }

    public var kind: Kind
    public var groups: [ParameterGroup]
    public var weightDecay: Float
    /// Steps taken so far (Adam's bias correction uses it).
    public private(set) var step = 0
    /// Momentum buffers (SGD) or first moments (Adam), by parameter name.
    public private(set) var first: [String: [Float]] = [:]
    /// Second moments (Adam), by parameter name.
    public private(set) var second: [String: [Float]] = [:]

    public init(_ kind: Kind, groups: [ParameterGroup], weightDecay: Float = 0) {
        self.kind = kind
        self.groups = groups
        self.weightDecay = weightDecay
    }

    /// The learning rate for `name`, or nil when no group covers it (the parameter stays frozen).
    public func learningRate(for name: String) -> Float? {
        groups.filter { name.hasPrefix($0.prefix) }.max { $0.prefix.count < $1.prefix.count }?.learningRate
    }

    /// One update of every parameter in `gradients` (by name); `scale` multiplies every learning
    /// rate (schedules).
    public mutating func update(_ store: ParameterStore, gradients: [String: Tensor], scale: Float = 1) {
        step += 1
        for name in gradients.keys.sorted() {
            guard let lr = learningRate(for: name).map({ $0 * scale }), let gradient = gradients[name],
                  var parameter = store.tensors[name] else { continue }
            precondition(parameter.shape == gradient.shape, "gradient of \(name) has shape \(gradient.shape), parameter \(parameter.shape)")
            let count = parameter.count
            switch kind {
            case let .sgd(momentum, nesterov):
                var buffer = first[name] ?? []
                let fresh = buffer.isEmpty
                if momentum != 0 && fresh { buffer = [Float](repeating: 0, count: count) }
                parameter.values.withUnsafeMutableBufferPointer { p in
                    gradient.values.withUnsafeBufferPointer { g in
                        buffer.withUnsafeMutableBufferPointer { b in
                            for i in 0..<count {
                                var d = g[i] + weightDecay * p[i]
                                if momentum != 0 {
                                    b[i] = fresh ? d : momentum * b[i] + d
                                    d = nesterov ? d + momentum * b[i] : b[i]
                                }
                                p[i] -= lr * d
                            }
                        }
                    }
                }
                if momentum != 0 { first[name] = buffer }
            case let .adam(beta1, beta2, eps):
                var m = first[name] ?? [Float](repeating: 0, count: count)
                var v = second[name] ?? [Float](repeating: 0, count: count)
                let correction1 = 1 - Float(pow(Double(beta1), Double(step)))
                let correction2 = (1 - Float(pow(Double(beta2), Double(step)))).squareRoot()
                for i in 0..<count {
                    let g = gradient.values[i] + weightDecay * parameter.values[i]
                    m[i] = beta1 * m[i] + (1 - beta1) * g
                    v[i] = beta2 * v[i] + (1 - beta2) * g * g
                    parameter.values[i] -= lr / correction1 * m[i] / (v[i].squareRoot() / correction2 + eps)
                }
                first[name] = m
                second[name] = v
            }
            store.tensors[name] = parameter
        }
    }

    /// Optimizer state as named tensors (`optimizer.step`, `optimizer.first.<name>`,
    /// `optimizer.second.<name>`), for a checkpoint's state file.
    public func stateTensors() -> [String: Tensor] {
        var tensors: [String: Tensor] = [:]
        for (name, values) in first { tensors["optimizer.first." + name] = Tensor(shape: [values.count], values: values) }
        for (name, values) in second { tensors["optimizer.second." + name] = Tensor(shape: [values.count], values: values) }
        return tensors
    }

    /// Restores what ``stateTensors()`` saved, with the step count.
    public mutating func restore(_ tensors: [String: Tensor], step: Int) {
        self.step = step
        first = [:]
        second = [:]
        for (key, tensor) in tensors {
            if key.hasPrefix("optimizer.first.") { first[String(key.dropFirst("optimizer.first.".count))] = tensor.values }
            if key.hasPrefix("optimizer.second.") { second[String(key.dropFirst("optimizer.second.".count))] = tensor.values }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
