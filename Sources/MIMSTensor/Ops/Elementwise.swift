import CDNNL
import MIMSCore

/// The engine's elementwise passes (residual adds, gradient sums), in any ``Tensor/Layout`` and
/// either element type, split across the cores. bf16 values are summed in float32 and rounded to
/// nearest even (`mims_bf16_*`), as oneDNN's bf16 kernels round.
enum Elementwise {
    /// a + b, or max(0, a + b) with `relu`; both in one layout and element type.
    static func add(_ x: Tensor, _ y: Tensor, relu: Bool) -> Tensor {
        precondition(x.shape == y.shape && x.layout == y.layout && x.element == y.element,
                     "add: shapes \(x.shape) and \(y.shape), layouts \(x.layout) and \(y.layout), elements \(x.element) and \(y.element)")
        var sum = Tensor.uninitialized(x.shape, layout: x.layout, element: x.element)
        if x.element == .bf16 {
            x.halves.withUnsafeBufferPointer { xs in
                y.halves.withUnsafeBufferPointer { ys in
                    sum.withUnsafeMutableData { out in
                        let (a, b, c) = (SendablePointer(xs.baseAddress!), SendablePointer(ys.baseAddress!),
                                         SendablePointer(out.assumingMemoryBound(to: UInt16.self)))
                        ElementwiseParallel.run(xs.count) { range in
                            mims_bf16_add(a.pointer, b.pointer, c.pointer, range.lowerBound, range.upperBound, relu ? 1 : 0)
                        }
                    }
                }
            }
            return sum
        }
        x.values.withUnsafeBufferPointer { xs in
            y.values.withUnsafeBufferPointer { ys in
                sum.values.withUnsafeMutableBufferPointer { out in
                    let (a, b, c) = (SendablePointer(xs.baseAddress!), SendablePointer(ys.baseAddress!), SendablePointer(out.baseAddress!))
                    ElementwiseParallel.run(out.count) { range in
                        if relu {
                            for i in range { c.pointer[i] = max(0, a.pointer[i] + b.pointer[i]) }
                        } else {
                            for i in range { c.pointer[i] = a.pointer[i] + b.pointer[i] }
                        }
                    }
                }
            }
        }
        return sum
    }

    /// total += g (a value used by several ops sums their gradients).
    static func accumulate(_ total: inout Tensor, _ g: Tensor) {
        precondition(total.shape == g.shape && total.layout == g.layout && total.element == g.element,
                     "gradients of one value in two layouts or element types")
        if g.element == .bf16 {
            total.withUnsafeMutableData { out in
                g.halves.withUnsafeBufferPointer { gs in
                    let (t, a) = (SendablePointer(out.assumingMemoryBound(to: UInt16.self)), SendablePointer(gs.baseAddress!))
                    ElementwiseParallel.run(gs.count) { range in mims_bf16_accumulate(t.pointer, a.pointer, range.lowerBound, range.upperBound) }
                }
            }
            return
        }
        total.values.withUnsafeMutableBufferPointer { sum in
            g.values.withUnsafeBufferPointer { gs in
                let (t, a) = (SendablePointer(sum.baseAddress!), SendablePointer(gs.baseAddress!))
                ElementwiseParallel.run(sum.count) { range in
                    for i in range { t.pointer[i] += a.pointer[i] }
                }
            }
        }
    }
}
