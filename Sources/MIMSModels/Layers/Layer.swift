import MIMSTensor

/// A part of a network that owns tensors. The layer is a value describing them: their names
/// (PyTorch's state_dict names, each layer adding its own `name` to its parent's path, as
/// `named_parameters` does), shapes and initialization; the tensors themselves live in a
/// ``ParameterStore`` by those names, because the optimizer, checkpoints and the inference cache
/// all address them by name. When it runs, a layer reads them through a ``ParameterBinding``
/// whose prefix is its parent's path.
public protocol Layer: Sendable {
    /// Every tensor this layer owns, its names below `prefix` ("" or ending in ".").
    func parameters(prefix: String) -> [ParameterSpec]
}

extension Layer {
    /// `prefix` + `name` + ".": where a layer called `name` keeps its tensors, the same path
    /// ``ParameterBinding/under(_:)`` gives when it runs.
    func path(_ prefix: String, _ name: String) -> String { name.isEmpty ? prefix : prefix + name + "." }
}
