import Foundation
import MIMSCore
import MIMSShards
import MIMSTensor

/// Checkpoints: `<name>.safetensors` holds the model under `backbone.<torchvision name>` and
/// `head.<name>` (PyTorch loads it by name; `num_batches_tracked` as int64), with the pipeline, the
/// iteration and the seed in the metadata; `<name>.<iteration>.state.safetensors` holds what an
/// exact resume needs besides (optimizer buffers and step; what is sampled is a function of the
/// seed and the iteration). Each is written to a `.part` file, fsynced and renamed, the state file
/// first; the model names its state file in its metadata (`state_file`), and older state files go
/// only after the model is published. A kill at any moment leaves a model whose state file exists.
public enum Checkpoint {
    public struct Loaded {
        public var parameters: [String: Tensor]
        public var metadata: [String: String]
        public var iteration: Int { Int(metadata["iteration"] ?? "") ?? 0 }
    }

    /// `metadata` adds the run's identity and provenance (``Trainer/provenance``): pipeline hash,
    /// shard set, the data's signature, the weights it started from.
    public static func write(store: ParameterStore, optimizer: Optimizer?, pipeline: Pipeline, iteration: Int, seed: UInt64,
                             metadata extra: [String: String] = [:], to path: String) throws {
        var floats: [String: Tensor] = [:]
        var integers: [String: (shape: [Int], values: [Int64])] = [:]
        for (name, tensor) in store.tensors {
            if name.hasSuffix("num_batches_tracked") {
                integers[name] = (tensor.shape, tensor.values.map { Int64($0) })
            } else {
                floats[name] = tensor
            }
        }
        var metadata = ["format": "mims-checkpoint", "pipeline": pipeline.text, "pipeline_name": pipeline.name,
                        "model": pipeline.variant.rawValue, "iteration": String(iteration), "seed": String(seed),
                        "precision": pipeline.precision.rawValue]
        metadata.merge(extra) { own, _ in own }
        let folder = (path as NSString).deletingLastPathComponent, base = (path as NSString).lastPathComponent
        if let optimizer {
            let stateName = statePrefix(base) + String(format: "%06d", iteration) + ".state.safetensors"
            let statePath = beside(path, stateName)
            try SafeTensorsWriter.write(optimizer.stateTensors(), metadata: ["step": String(optimizer.step), "iteration": String(iteration)],
                                        to: statePath + ".part")
            try FileDurability.publish(statePath + ".part", as: statePath)
            metadata["state_file"] = stateName
        }
        try SafeTensorsWriter.write(floats, integers: integers, metadata: metadata, to: path + ".part")
        try FileDurability.publish(path + ".part", as: path)
        if let current = metadata["state_file"] {
            // Older state files are no longer named by any model.
            let stale = ((try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder)) ?? [])
                .filter { $0.hasPrefix(statePrefix(base)) && $0.hasSuffix(".state.safetensors") && $0 != current }
            for name in stale { FileDurability.remove(beside(path, name)) }
        }
    }

    static func statePrefix(_ modelFile: String) -> String {
        (modelFile.hasSuffix(".safetensors") ? String(modelFile.dropLast(".safetensors".count)) : modelFile) + "."
    }

    /// The state file a checkpoint names, next to it.
    public static func statePath(of path: String, loaded: Loaded) throws -> String {
        guard let name = loaded.metadata["state_file"] else {
            throw TrainingError.checkpoint(path: path, reason: "names no optimizer state file (written without one); cannot resume exactly")
        }
        return beside(path, name)
    }

    /// The file `name` in the folder of `path`.
    static func beside(_ path: String, _ name: String) -> String {
        let folder = (path as NSString).deletingLastPathComponent
        return (folder.isEmpty ? "" : folder + "/") + name
    }

    public static func read(_ path: String) throws -> Loaded {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw TrainingError.checkpoint(path: path, reason: "no such file (a run writes RUN/checkpoint.safetensors)")
        }
        if isFolder.boolValue {
            let inside = path + "/checkpoint.safetensors"
            throw TrainingError.checkpoint(path: path, reason: "is a folder; give the checkpoint file" + (FileManager.default.fileExists(atPath: inside) ? ", e.g. \(inside)" : ""))
        }
        let file: SafeTensorsFile
        do {
            file = try SafeTensorsFile(path: path)
        } catch {
            throw TrainingError.checkpoint(path: path, reason: "not a mims-train checkpoint (\(ReadableError.describe(error)))")
        }
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

    /// Refuses to use a checkpoint on shards of another kind, channel count or classes, naming
    /// both sides. Returns a line to print: a note for checkpoints that predate the recorded
    /// signature, or that the model moves to another dataset of the same kind (fine-tuning).
    public static func checkCompatible(_ loaded: Loaded, path: String, with shards: DatasetSignature, shards folder: String) throws -> String? {
        guard let trained = DatasetSignature(metadata: loaded.metadata) else {
            return "note: \(path) records no dataset kind, channels or classes (written by an older mims-train); not checked against \(folder)"
        }
        if let reason = trained.mismatch(with: shards) {
            throw TrainingError.incompatibleCheckpoint(path: path, shards: folder, reason: reason)
        }
        if !trained.dataset.isEmpty, trained.dataset != shards.dataset {
            return "\(path): trained on \(trained.dataset), used on \(shards.dataset) (both \(shards.kind), same channels and classes)"
        }
        return nil
    }
}
