import Foundation
import MIMSTestSupport
import Testing
@testable import MIMSModels
@testable import MIMSTensor

struct ResNetTrunkTests {
    /// Names and shapes equal torchvision's state_dict (Tests/Fixtures/golden/resnet*_state_dict_shapes.json), fc.* aside.
    @Test(arguments: ResNetTrunk.Depth.allCases)
    func namesAndShapesMatchTorchvision(_ depth: ResNetTrunk.Depth) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: repositoryRoot + "/Tests/Fixtures/golden/resnet\(depth.rawValue)_state_dict_shapes.json"))
        let torchvision = try JSONSerialization.jsonObject(with: data) as! [String: [Int]]
        let expected = torchvision.filter { !$0.key.hasPrefix("fc.") }
        #expect(ResNetTrunk(depth).parameterShapes() == expected)
    }

    @Test func loadsStateDictsAndNamesWhatIsWrong() throws {
        let dir = try TemporaryDirectory()
        let trunk = ResNetTrunk(.resnet18)
        var tensors = trunk.parameterShapes().mapValues { Tensor.zeros($0) }
        tensors["fc.weight"] = Tensor.zeros([1000, 512])
        tensors.removeValue(forKey: "bn1.num_batches_tracked")  // old torchvision weights lack it
        tensors["layer2.0.bn1.weight"] = Tensor(shape: [128], values: (0..<128).map(Float.init))
        let path = dir.path + "/ok.safetensors"
        try SafeTensorsWriter.write(tensors, to: path)
        let store = ParameterStore()
        try trunk.load(SafeTensorsFile(path: path), into: store)
        #expect(store.tensors["layer2.0.bn1.weight"]?.values[5] == 5)
        #expect(store.tensors["bn1.num_batches_tracked"]?.values == [0])
        #expect(store.tensors["fc.weight"] == nil)

        var missing = tensors
        missing.removeValue(forKey: "layer4.1.conv2.weight")
        try SafeTensorsWriter.write(missing, to: dir.path + "/missing.safetensors")
        #expect(throws: ModelError.missingTensor(file: dir.path + "/missing.safetensors", name: "layer4.1.conv2.weight")) {
            try trunk.load(SafeTensorsFile(path: dir.path + "/missing.safetensors"), into: ParameterStore())
        }
        var extra = tensors
        extra["layer5.0.conv1.weight"] = Tensor.zeros([1])
        try SafeTensorsWriter.write(extra, to: dir.path + "/extra.safetensors")
        #expect(throws: ModelError.unexpectedTensor(file: dir.path + "/extra.safetensors", name: "layer5.0.conv1.weight")) {
            try trunk.load(SafeTensorsFile(path: dir.path + "/extra.safetensors"), into: ParameterStore())
        }
        var wrong = tensors
        wrong["conv1.weight"] = Tensor.zeros([64, 3, 3, 3])
        try SafeTensorsWriter.write(wrong, to: dir.path + "/wrong.safetensors")
        #expect(throws: ModelError.wrongShape(file: dir.path + "/wrong.safetensors", name: "conv1.weight", expected: [64, 3, 7, 7], found: [64, 3, 3, 3])) {
            try trunk.load(SafeTensorsFile(path: dir.path + "/wrong.safetensors"), into: ParameterStore())
        }
    }

    /// A forward and backward pass through a small ResNet-18 gives torchvision's feature-map sizes
    /// and a gradient for every trainable tensor.
    @Test func forwardBackwardShapes() {
        let trunk = ResNetTrunk(.resnet18)
        let store = ParameterStore()
        trunk.initialize(store, seed: 1)
        let tape = Tape(training: true)
        let bound = ParameterBinding(store, on: tape)
        var random = SplitMix64(seed: 2)
        let x = tape.variable(Tensor(shape: [2, 3, 64, 48], values: (0..<2 * 3 * 64 * 48).map { _ in Float(random.unit()) }))
        let features = trunk(bound, x)
        #expect(tape.value(features).shape == [2, 512, 2, 2])
        let evaluation = Tape(training: false)
        let layer3 = trunk(ParameterBinding(store, on: evaluation), evaluation.constant(tape.value(x)), lastLayer: 3)
        #expect(evaluation.value(layer3).shape == [2, 256, 4, 3])
        tape.backward(from: features)
        let trainable = trunk.parameterShapes().keys.filter { $0.hasSuffix("weight") || $0.hasSuffix("bias") }
        #expect(trainable.allSatisfy { bound.gradient(of: $0) != nil })
        #expect(store.tensors["bn1.num_batches_tracked"]?.values == [1])
    }
}
