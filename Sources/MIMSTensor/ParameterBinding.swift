/// A ``ParameterStore`` seen from one tape: each stored tensor goes onto the tape once, however
/// often layers use it (a pyramid runs the trunk once per level), so its gradients sum there and
/// the optimizer reads them back by checkpoint name.
///
/// A binding carries the path of the layer being run (`prefix`, say "backbone.layer1.0."), an
/// immutable value each layer extends for its children with ``under(_:)``: the names a layer
/// reads are the ones the layer tree gives it, and no state is left behind between calls.
public struct ParameterBinding {
    public let tape: Tape
    public let store: ParameterStore
    /// Prepended to every name this binding reads or writes: "" or ending in ".".
    public let prefix: String
    private let placed: Placed

    /// The tensors already on the tape by full name, shared by every binding ``under(_:)`` this one.
    private final class Placed {
        var variables: [String: Tape.Variable] = [:]
    }

    public init(_ store: ParameterStore, on tape: Tape) {
        // Training changes every weight: the inference cache would only hold memory.
        if tape.training { store.dropInferenceCache() }
        self.init(tape: tape, store: store, prefix: "", placed: Placed())
    }

    private init(tape: Tape, store: ParameterStore, prefix: String, placed: Placed) {
        self.tape = tape
        self.store = store
        self.prefix = prefix
        self.placed = placed
    }

    /// The same binding one level down the layer tree: names below `prefix` + `name` + "."
    /// (`name` empty: this binding, for a layer that is a model's root).
    public func under(_ name: String) -> ParameterBinding {
        name.isEmpty ? self : ParameterBinding(tape: tape, store: store, prefix: prefix + name + ".", placed: placed)
    }

    /// The full checkpoint name of the tensor this binding calls `name`.
    public func fullName(_ name: String) -> String { prefix + name }

    /// The stored parameter `name` on the tape (a gradient is recorded unless the tape records none).
    public func parameter(_ name: String) -> Tape.Variable {
        let full = fullName(name)
        if let variable = placed.variables[full] { return variable }
        let variable = tape.variable(tensor(name))
        placed.variables[full] = variable
        return variable
    }

    /// A stored tensor that is not differentiated (a running statistic).
    public func tensor(_ name: String) -> Tensor {
        guard let tensor = store.tensors[fullName(name)] else { preconditionFailure("no tensor '\(fullName(name))' in the store") }
        return tensor
    }

    /// The stored tensor `name`, if there is one (an optional buffer such as `num_batches_tracked`).
    public func optionalTensor(_ name: String) -> Tensor? { store.tensors[fullName(name)] }

    /// Replaces a stored tensor (BatchNorm's running statistics after a training step).
    public func update(_ name: String, to tensor: Tensor) { store.tensors[fullName(name)] = tensor }

    /// The gradient of parameter `name` after the tape's backward pass; nil when it was not used
    /// or nothing flowed into it.
    public func gradient(of name: String) -> Tensor? { placed.variables[fullName(name)].flatMap(tape.gradient) }

    /// Every parameter's gradient by full name: what ``Optimizer/update(_:gradients:scale:)`` takes.
    public var gradients: [String: Tensor] {
        placed.variables.compactMapValues(tape.gradient)
    }
}
