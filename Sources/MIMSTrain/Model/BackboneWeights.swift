import Foundation
import MIMSCore
import MIMSModels
import MIMSTensor

/// Reads a `--backbone-weights` file for a trunk, turning the common mistakes into messages that
/// say what the file is and what to do: a PyTorch pickle instead of safetensors, weights of
/// another ResNet depth, names under a wrapper prefix such as `module.`.
public enum BackboneWeights {
    static let conversionHint = "convert it where PyTorch is installed with python3 scripts/convert_resnet_weights.py FILE.pth resnet.safetensors (docs/WEIGHTS.md)"

    public static func open(_ path: String, depth: ResNetTrunk.Depth) throws -> SafeTensorsFile {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw TrainingError.backboneWeights(path: path, reason: "no such file (docs/WEIGHTS.md says how to get ImageNet weights)")
        }
        guard !isFolder.boolValue else { throw TrainingError.backboneWeights(path: path, reason: "is a folder; --backbone-weights wants a .safetensors file") }
        let head = FileHandle(forReadingAtPath: path).flatMap { handle in
            defer { try? handle.close() }
            return try? handle.read(upToCount: 9)
        }.map { [UInt8]($0) } ?? []
        // torch.save writes a zip archive (PK\3\4) or, before PyTorch 1.6, a bare pickle (0x80 = PROTO).
        let pickled = head.starts(with: [0x50, 0x4B, 0x03, 0x04]) || head.first == 0x80
            || [".pth", ".pt", ".ckpt", ".pkl"].contains(where: path.lowercased().hasSuffix)
        if pickled && !looksLikeSafeTensors(head) {
            throw TrainingError.backboneWeights(path: path, reason: "a PyTorch pickle (torch.save), not safetensors; \(conversionHint)")
        }
        let file: SafeTensorsFile
        do {
            file = try SafeTensorsFile(path: path)
        } catch {
            throw TrainingError.backboneWeights(path: path, reason: "not a safetensors file (\(ReadableError.describe(error))); \(conversionHint)")
        }
        let names = Array(file.entries.keys)
        if !names.contains("conv1.weight"), let wrapped = names.first(where: { $0.hasSuffix(".conv1.weight") && !$0.contains("layer") }) {
            let prefix = String(wrapped.dropLast("conv1.weight".count))
            throw TrainingError.backboneWeights(path: path, reason: "tensor names start with '\(prefix)' (e.g. '\(wrapped)'); torchvision names such as 'conv1.weight' are expected; scripts/convert_resnet_weights.py strips such prefixes")
        }
        if let found = inferredDepth(names), found != depth.rawValue {
            throw TrainingError.backboneWeights(path: path, reason: "ResNet-\(found) weights, the pipeline wants ResNet-\(depth.rawValue) (backbone.depth)")
        }
        return file
    }

    /// The ResNet depth of torchvision-named tensors: bottleneck blocks (a conv3 per block) mean
    /// 50 or deeper, and layer3's block count tells the rest; nil when the names say neither.
    static func inferredDepth(_ names: [String]) -> Int? {
        let bottleneck = names.contains("layer1.0.conv3.weight")
        let layer3Blocks = Set(names.compactMap { name -> Int? in
            guard name.hasPrefix("layer3.") else { return nil }
            return Int(name.dropFirst("layer3.".count).prefix { $0 != "." })
        }).count
        switch (bottleneck, layer3Blocks) {
        case (false, 2): return 18
        case (false, 6): return 34
        case (true, 6): return 50
        case (true, 23): return 101
        case (true, 36): return 152
        default: return nil
        }
    }

    /// A safetensors file starts with its JSON header's length (8 bytes, little-endian, far below
    /// 2^32) and then '{'.
    static func looksLikeSafeTensors(_ head: [UInt8]) -> Bool { head.count == 9 && head[4..<8].allSatisfy { $0 == 0 } && head[8] == 0x7B }
}
