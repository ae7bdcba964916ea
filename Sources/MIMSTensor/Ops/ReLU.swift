import CDNNL
import MIMSCore

/// ReLU, forward and backward (the gradient passes where the input was positive); elementwise, so
/// any ``Tensor/Layout`` and either element type goes through unchanged.
public enum ReLU {
    public static func forward(_ x: Tensor) -> Tensor {
        if x.element == .bf16 { return Elementwise.bf16(x, x) { input, _, output, begin, end in mims_bf16_relu(input, output, begin, end) } }
        var y = Tensor.uninitialized(x.shape, layout: x.layout)
        x.values.withUnsafeBufferPointer { xs in
            y.values.withUnsafeMutableBufferPointer { ys in
                let (input, output) = (SendablePointer(xs.baseAddress!), SendablePointer(ys.baseAddress!))
                ElementwiseParallel.run(xs.count) { range in
                    for i in range { output.pointer[i] = max(0, input.pointer[i]) }
                }
            }
        }
        return y
    }

    public static func backward(_ gradY: Tensor, output: Tensor) -> Tensor {
        precondition(gradY.layout == output.layout && gradY.element == output.element, "relu gradient and output in different layouts or element types")
        if gradY.element == .bf16 {
            return Elementwise.bf16(gradY, output) { g, y, out, begin, end in mims_bf16_relu_backward(g, y, out, begin, end) }
        }
        var gx = Tensor.uninitialized(gradY.shape, layout: gradY.layout)
        gradY.values.withUnsafeBufferPointer { gys in
            output.values.withUnsafeBufferPointer { ys in
                gx.values.withUnsafeMutableBufferPointer { gxs in
                    let (g, y, out) = (SendablePointer(gys.baseAddress!), SendablePointer(ys.baseAddress!), SendablePointer(gxs.baseAddress!))
                    ElementwiseParallel.run(gys.count) { range in
                        // Eight lanes at a time: the select does not vectorize on its own here.
                        var i = range.lowerBound
                        let (rg, ry, ro) = (UnsafeRawPointer(g.pointer), UnsafeRawPointer(y.pointer), UnsafeMutableRawPointer(out.pointer))
                        while i + 8 <= range.upperBound {
                            let keep = ry.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) .> SIMD8<Float>()
                            let v = SIMD8<Float>().replacing(with: rg.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self), where: keep)
                            ro.storeBytes(of: v, toByteOffset: 4 * i, as: SIMD8<Float>.self)
                            i += 8
                        }
                        while i < range.upperBound { out.pointer[i] = y.pointer[i] > 0 ? g.pointer[i] : 0; i += 1 }
                    }
                }
            }
        }
        return gx
    }
}
