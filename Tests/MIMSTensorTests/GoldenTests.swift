import Foundation
import MIMSTestSupport
import Testing
@testable import MIMSTensor

/// The PyTorch-computed cases of Tests/Fixtures/golden (README there): forward outputs and every
/// gradient within 1e-4 relative error.
struct GoldenTests {
    @Test(arguments: 0..<7)
    func conv2d(_ index: Int) throws {
        let file = try golden("conv2d_\(index)")
        let p = try caseParameters(file)
        let geometry = Conv2DGeometry(stride: p["stride"] as! Int, padding: p["padding"] as! Int, dilation: p["dilation"] as! Int)
        let x = try file.tensor("x"), w = try file.tensor("weight"), b = try file.tensor("bias")
        let y = Conv2D.forward(x, weight: w, bias: b, geometry: geometry)
        #expect(relativeError(y, try file.tensor("y")) < 1e-4)
        let grads = Conv2D.backward(x, weight: w, gradY: try file.tensor("grad_y"), geometry: geometry, hasBias: true)
        #expect(relativeError(grads.gradX!, try file.tensor("grad_x")) < 1e-4)
        #expect(relativeError(grads.gradWeight, try file.tensor("grad_weight")) < 1e-4)
        #expect(relativeError(grads.gradBias!, try file.tensor("grad_bias")) < 1e-4)
    }

    @Test(arguments: 0..<3)
    func batchnorm2d(_ index: Int) throws {
        let file = try golden("batchnorm2d_\(index)")
        let x = try file.tensor("x"), w = try file.tensor("weight"), b = try file.tensor("bias")
        var mean = try file.tensor("running_mean_before"), variance = try file.tensor("running_var_before")
        let (y, saved) = BatchNorm2D.trainForward(x, weight: w, bias: b, runningMean: &mean, runningVar: &variance)
        #expect(relativeError(y, try file.tensor("y_train")) < 1e-4)
        #expect(relativeError(mean, try file.tensor("running_mean_after")) < 1e-4)
        #expect(relativeError(variance, try file.tensor("running_var_after")) < 1e-4)
        let grads = BatchNorm2D.backward(try file.tensor("grad_y"), saved: saved, weight: w, bias: b)
        #expect(relativeError(grads.gradX, try file.tensor("grad_x")) < 1e-4)
        #expect(relativeError(grads.gradWeight, try file.tensor("grad_weight")) < 1e-4)
        #expect(relativeError(grads.gradBias, try file.tensor("grad_bias")) < 1e-4)
        let eval = BatchNorm2D.evalForward(x, weight: w, bias: b, runningMean: mean, runningVar: variance).y
        #expect(relativeError(eval, try file.tensor("y_eval_after")) < 1e-4)
    }

    @Test(arguments: 0..<3)
    func maxpool2d(_ index: Int) throws {
        let file = try golden("maxpool2d_\(index)")
        let x = try file.tensor("x")
        let (y, workspace) = MaxPool2D.forward(x)
        #expect(relativeError(y, try file.tensor("y")) < 1e-6)
        let gradX = MaxPool2D.backward(try file.tensor("grad_y"), workspace: workspace, inputShape: x.shape)
        #expect(relativeError(gradX, try file.tensor("grad_x")) < 1e-6)
    }

    @Test(arguments: 0..<7)
    func resizeBilinear(_ index: Int) throws {
        let file = try golden("resize_bilinear_\(index)")
        let x = try file.tensor("x"), expected = try file.tensor("y")
        let y = BilinearResize2D.forward(x, height: expected.shape[2], width: expected.shape[3])
        #expect(relativeError(y, expected) < 1e-5)
        let gradX = BilinearResize2D.backward(try file.tensor("grad_y"), inputShape: x.shape)
        #expect(relativeError(gradX, try file.tensor("grad_x")) < 1e-5)
    }

    @Test func linearCrossEntropy() throws {
        let file = try golden("linear_xent")
        let x = try file.tensor("x"), w = try file.tensor("weight"), b = try file.tensor("bias")
        let labels = try file.integers("labels").map(Int.init)
        let logits = Linear.forward(x, weight: w, bias: b)
        #expect(relativeError(logits, try file.tensor("logits")) < 1e-4)
        let (loss, gradLogits) = SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: labels)
        #expect(abs(Double(loss) - Double(try file.tensor("loss").values[0])) / Double(abs(try file.tensor("loss").values[0])) < 1e-4)
        let grads = Linear.backward(x, weight: w, gradY: gradLogits)
        #expect(relativeError(grads.gradX, try file.tensor("grad_x")) < 1e-4)
        #expect(relativeError(grads.gradWeight, try file.tensor("grad_weight")) < 1e-4)
        #expect(relativeError(grads.gradBias, try file.tensor("grad_bias")) < 1e-4)
    }
}
