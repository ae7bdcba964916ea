import Foundation
import MIMSTestSupport
import Testing
@testable import MIMSModels
@testable import MIMSTensor

/// torchvision ResNet blocks in training mode through the tape: output, input and parameter
/// gradients, and the running statistics after the step.
struct BlockGoldenTests {
    @Test(arguments: [("basicblock", false, 1, false), ("basicblock_down", false, 2, true), ("bottleneck_down", true, 2, true)])
    func block(_ spec: (String, Bool, Int, Bool)) throws {
        let (name, bottleneck, stride, downsample) = spec
        let file = try golden(name)
        var parameters: [String: Tensor] = [:]
        for entry in file.entries.keys where entry.hasPrefix("param.") {
            parameters[String(entry.dropFirst(6))] = try file.tensor(entry)
        }
        let store = ParameterStore(parameters)
        let tape = Tape(store: store, training: true)
        let x = tape.variable(try file.tensor("x"))
        let y = bottleneck ? ResNetBlocks.bottleneck(tape, x, prefix: "", stride: stride, downsample: downsample)
            : ResNetBlocks.basic(tape, x, prefix: "", stride: stride, downsample: downsample)
        #expect(relativeError(tape.value(y), try file.tensor("y")) < 1e-4)
        tape.backward(from: y, seed: try file.tensor("grad_y"))
        #expect(relativeError(try #require(tape.gradient(x)), try file.tensor("grad_x")) < 1e-4)
        for entry in file.entries.keys.sorted() where entry.hasPrefix("grad.") {
            let parameter = String(entry.dropFirst(5))
            let gradient = try #require(tape.gradient(of: parameter), "no gradient for \(parameter)")
            #expect(relativeError(gradient, try file.tensor(entry)) < 1e-4, "\(parameter)")
        }
        for entry in file.entries.keys.sorted() where entry.hasPrefix("after.") {
            let buffer = String(entry.dropFirst(6))
            #expect(relativeError(store.tensors[buffer]!, try file.tensor(entry)) < 1e-4, "\(buffer)")
        }
        #expect(store.tensors["bn1.num_batches_tracked"]?.values == [(try file.tensor("param.bn1.num_batches_tracked")).values[0] + 1])
    }
}
