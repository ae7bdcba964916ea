import MIMSBLAS
#if canImport(Glibc)
import Glibc
#endif

/// A linear layer (y = x Wᵀ + b) and the mean softmax cross-entropy of its logits.
public enum Linear {
    public static func forward(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        let (n, k, o) = (x.shape[0], x.shape[1], weight.shape[0])
        var y = Tensor.zeros([n, o])
        if let bias { for row in 0..<n { for j in 0..<o { y.values[row * o + j] = bias.values[j] } } }
        x.values.withUnsafeBufferPointer { xs in
            weight.values.withUnsafeBufferPointer { ws in
                y.values.withUnsafeMutableBufferPointer { ys in
                    sgemm(transposeA: false, transposeB: true, m: n, n: o, k: k, alpha: 1, a: xs.baseAddress!, lda: k,
                          b: ws.baseAddress!, ldb: k, beta: bias == nil ? 0 : 1, c: ys.baseAddress!, ldc: o)
                }
            }
        }
        return y
    }

    public static func backward(_ x: Tensor, weight: Tensor, gradY: Tensor) -> (gradX: Tensor, gradWeight: Tensor, gradBias: Tensor) {
        let (n, k, o) = (x.shape[0], x.shape[1], weight.shape[0])
        var gradX = Tensor.zeros(x.shape), gradW = Tensor.zeros(weight.shape), gradB = Tensor.zeros([o])
        gradY.values.withUnsafeBufferPointer { gys in
            weight.values.withUnsafeBufferPointer { ws in
                gradX.values.withUnsafeMutableBufferPointer { gxs in
                    sgemm(transposeA: false, transposeB: false, m: n, n: k, k: o, alpha: 1, a: gys.baseAddress!, lda: o,
                          b: ws.baseAddress!, ldb: k, beta: 0, c: gxs.baseAddress!, ldc: k)
                }
            }
            x.values.withUnsafeBufferPointer { xs in
                gradW.values.withUnsafeMutableBufferPointer { gws in
                    sgemm(transposeA: true, transposeB: false, m: o, n: k, k: n, alpha: 1, a: gys.baseAddress!, lda: o,
                          b: xs.baseAddress!, ldb: k, beta: 0, c: gws.baseAddress!, ldc: k)
                }
            }
        }
        for row in 0..<n { for j in 0..<o { gradB.values[j] += gradY.values[row * o + j] } }
        return (gradX, gradW, gradB)
    }
}

public enum SoftmaxCrossEntropy {
    /// Mean loss over the rows and its gradient with respect to the logits.
    public static func lossAndGradient(logits: Tensor, labels: [Int]) -> (loss: Float, gradLogits: Tensor) {
        let (n, classes) = (logits.shape[0], logits.shape[1])
        var grad = Tensor.zeros(logits.shape)
        var total = 0.0
        for row in 0..<n {
            let values = logits.values[row * classes..<(row + 1) * classes].map(Double.init)
            let top = values.max()!
            let exps = values.map { exp($0 - top) }
            let sum = exps.reduce(0, +)
            total += -(values[labels[row]] - top - log(sum))
            for j in 0..<classes {
                grad.values[row * classes + j] = Float((exps[j] / sum - (j == labels[row] ? 1 : 0)) / Double(n))
            }
        }
        return (Float(total / Double(n)), grad)
    }
}
