import Foundation
import MIMSTestSupport
import Testing
@testable import MIMSTensor

/// scripts/convert_resnet_weights.py finds the weights inside training-checkpoint wrappers and
/// drops DataParallel's `module.` prefix; the file it writes loads here by torchvision name.
struct ConvertWeightsScriptTests {
    @Test func wrappersAndModulePrefixesAreRemoved() throws {
        let dir = try TemporaryDirectory()
        let script = """
        import sys
        import numpy as np
        sys.path.insert(0, sys.argv[1] + "/scripts")
        import convert_resnet_weights as convert
        weights = {"module.conv1.weight": np.arange(6, dtype=np.float32).reshape(2, 3),
                   "module.bn1.num_batches_tracked": np.array(7, dtype=np.int64)}
        for name, wrapped in [("state_dict", {"epoch": 3, "state_dict": weights}), ("model", {"model": weights, "optimizer": {}})]:
            convert.write_safetensors(convert.unwrap(wrapped), sys.argv[2] + "/" + name + ".safetensors")
        try:
            import torch
        except ImportError:
            sys.exit(0)
        torch.save({"state_dict": {k: torch.from_numpy(np.asarray(v)) for k, v in weights.items()}}, sys.argv[2] + "/saved.pth")
        sys.argv = ["convert", sys.argv[2] + "/saved.pth", sys.argv[2] + "/torch.safetensors"]
        exec(open(convert.__file__).read(), {"__name__": "__main__"})
        """
        _ = try run(["python3", "-c", script, repositoryRoot, dir.path])
        var files = ["state_dict", "model"]
        if FileManager.default.fileExists(atPath: dir.path + "/torch.safetensors") { files.append("torch") }
        for name in files {
            let file = try SafeTensorsFile(path: dir.path + "/\(name).safetensors")
            #expect(file.entries.keys.sorted() == ["bn1.num_batches_tracked", "conv1.weight"], "\(name)")
            #expect(try file.tensor("conv1.weight") == Tensor(shape: [2, 3], values: [0, 1, 2, 3, 4, 5]), "\(name)")
            #expect(try file.integers("bn1.num_batches_tracked") == [7], "\(name)")
        }
    }
}
