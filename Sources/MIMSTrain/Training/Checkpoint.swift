import Foundation
import MIMSShards
import MIMSTensor

/// Checkpoints: `<name>.safetensors` holds the model under `backbone.<torchvision name>` and
/// `head.<name>` (PyTorch loads it by name; `num_batches_tracked` as int64), with the pipeline, the
/// iteration and the seed in the metadata; `<name>.state.safetensors` holds what an exact resume
/// needs besides (optimizer buffers and step). Both are written to `.part` files, fsynced and
/// renamed, the state file first, so a kill leaves the previous pair or the new one.
public enum Checkpoint {
    public struct Loaded {
        public var parameters: [String: Tensor]
        public var metadata: [String: String]
        public var iteration: Int { Int(metadata["iteration"] ?? "") ?? 0 }
    }

    public static func write(store: ParameterStore, optimizer: Optimizer?, pipeline: Pipeline, iteration: Int, seed: UInt64,
                             to path: String) throws {
        var floats: [String: Tensor] = [:]
        var integers: [String: (shape: [Int], values: [Int64])] = [:]
        for (name, tensor) in store.tensors {
            if name.hasSuffix("num_batches_tracked") {
                integers[name] = (tensor.shape, tensor.values.map { Int64($0) })
            } else {
                floats[name] = tensor
            }
        }
        let metadata = ["format": "mims-checkpoint", "pipeline": pipeline.text, "pipeline_name": pipeline.name,
                        "model": pipeline.variant.rawValue, "iteration": String(iteration), "seed": String(seed)]
        if let optimizer {
            let statePath = statePathFor(path)
            try SafeTensorsWriter.write(optimizer.stateTensors(), metadata: ["step": String(optimizer.step), "iteration": String(iteration)],
                                        to: statePath + ".part")
            try FileDurability.publish(statePath + ".part", as: statePath)
        }
        try SafeTensorsWriter.write(floats, integers: integers, metadata: metadata, to: path + ".part")
        try FileDurability.publish(path + ".part", as: path)
    }

    public static func statePathFor(_ path: String) -> String {
        (path.hasSuffix(".safetensors") ? String(path.dropLast(".safetensors".count)) : path) + ".state.safetensors"
    }

    public static func read(_ path: String) throws -> Loaded {
        let file = try SafeTensorsFile(path: path)
        guard file.metadata["format"] == "mims-checkpoint" else {
            throw TrainingError.checkpoint(path: path, reason: "not a mims-train checkpoint (no format=mims-checkpoint in its metadata)")
        }
        var parameters: [String: Tensor] = [:]
        for (name, entry) in file.entries {
            if entry.dtype == "I64" || entry.dtype == "I32" {
                parameters[name] = Tensor(shape: entry.shape, values: try file.integers(name).map { Float($0) })
            } else {
                parameters[name] = try file.tensor(name)
            }
        }
        return Loaded(parameters: parameters, metadata: file.metadata)
    }

    /// Puts a checkpoint's tensors into `store`, checking every name and shape against the network.
    public static func restore(_ loaded: Loaded, path: String, network: Network, into store: ParameterStore) throws {
        let shapes = network.parameterShapes()
        for (name, shape) in shapes.sorted(by: { $0.key < $1.key }) {
            guard let tensor = loaded.parameters[name] else {
                throw TrainingError.checkpoint(path: path, reason: "missing tensor '\(name)' (was it written for another pipeline?)")
            }
            guard tensor.shape == shape else {
                throw TrainingError.checkpoint(path: path, reason: "tensor '\(name)' has shape \(tensor.shape), the pipeline needs \(shape)")
            }
            store.tensors[name] = tensor
        }
        if let extra = loaded.parameters.keys.sorted().first(where: { shapes[$0] == nil }) {
            throw TrainingError.checkpoint(path: path, reason: "unexpected tensor '\(extra)' for this pipeline")
        }
    }
}
