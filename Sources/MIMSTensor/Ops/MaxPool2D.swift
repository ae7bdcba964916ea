import CDNNL

/// Max pooling (PyTorch `F.max_pool2d`, floor mode, padding counts as −∞) on oneDNN, in either
/// ``Tensor/Layout``, float32 or bf16. The workspace records where each maximum came from, for the backward pass.
public enum MaxPool2D {
    public static func forward(_ x: Tensor, kernel: Int = 3, stride: Int = 2, padding: Int = 1,
                               keepWorkspace: Bool = true) -> (y: Tensor, workspace: [UInt8]) {
        precondition(x.rank == 4, "max pooling needs N x C x H x W, got \(x.shape)")
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let oh = (h + 2 * padding - kernel) / stride + 1, ow = (w + 2 * padding - kernel) / stride + 1
        var y = Tensor.uninitialized([n, c, oh, ow], layout: x.layout, element: x.element)
        let (code, type) = (x.layout.code, x.element.code)
        var workspace = [UInt8](repeating: 0, count: keepWorkspace
                                    ? mims_pool_workspace_size(Int32(n), Int32(c), Int32(h), Int32(w), code, type, Int32(kernel), Int32(stride), Int32(padding)) : 0)
        let status = x.withUnsafeData { xs in
            y.withUnsafeMutableData { ys in
                workspace.withUnsafeMutableBytes { space in
                    mims_pool_forward(Int32(n), Int32(c), Int32(h), Int32(w), code, type, Int32(kernel), Int32(stride), Int32(padding),
                                      xs, ys, keepWorkspace ? space.baseAddress : nil)
                }
            }
        }
        Engine.check(status, "max pooling of \(x.shape)")
        return (y, workspace)
    }

    public static func backward(_ gradY: Tensor, workspace: [UInt8], inputShape: [Int], kernel: Int = 3, stride: Int = 2, padding: Int = 1) -> Tensor {
        precondition(!workspace.isEmpty, "max-pooling backward needs the forward's workspace")
        let (n, c, h, w) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
        var gradX = Tensor.uninitialized(inputShape, layout: gradY.layout, element: gradY.element)
        let status = gradY.withUnsafeData { gys in
            workspace.withUnsafeBytes { space in
                gradX.withUnsafeMutableData { gxs in
                    mims_pool_backward(Int32(n), Int32(c), Int32(h), Int32(w), gradY.layout.code, gradY.element.code, Int32(kernel), Int32(stride),
                                       Int32(padding), gys, space.baseAddress!, gxs)
                }
            }
        }
        Engine.check(status, "max-pooling backward of \(gradY.shape)")
        return gradX
    }
}
