/// Max pooling (PyTorch `F.max_pool2d`, padding counts as −∞) and ReLU.
public enum MaxPool2D {
    public static func forward(_ x: Tensor, kernel: Int = 3, stride: Int = 2, padding: Int = 1) -> (y: Tensor, argmax: [Int32]) {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let oh = (h + 2 * padding - kernel) / stride + 1, ow = (w + 2 * padding - kernel) / stride + 1
        var y = Tensor.zeros([n, c, oh, ow])
        var argmax = [Int32](repeating: 0, count: n * c * oh * ow)
        for plane in 0..<n * c {
            let input = plane * h * w
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var best = -Float.infinity, at = -1
                    for ky in 0..<kernel {
                        let iy = oy * stride - padding + ky
                        if iy < 0 || iy >= h { continue }
                        for kx in 0..<kernel {
                            let ix = ox * stride - padding + kx
                            if ix < 0 || ix >= w { continue }
                            let v = x.values[input + iy * w + ix]
                            if v > best || at < 0 || v.isNaN { best = v; at = iy * w + ix }
                        }
                    }
                    let out = (plane * oh + oy) * ow + ox
                    y.values[out] = best
                    argmax[out] = Int32(at)
                }
            }
        }
        return (y, argmax)
    }

    public static func backward(_ gradY: Tensor, argmax: [Int32], inputShape: [Int]) -> Tensor {
        var gradX = Tensor.zeros(inputShape)
        let (h, w) = (inputShape[2], inputShape[3])
        let outPlane = gradY.shape[2] * gradY.shape[3]
        for index in 0..<gradY.count {
            let plane = index / outPlane
            gradX.values[plane * h * w + Int(argmax[index])] += gradY.values[index]
        }
        return gradX
    }
}

public enum ReLU {
    public static func forward(_ x: Tensor) -> Tensor {
        var y = Tensor.uninitialized(x.shape)
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
        var gx = Tensor.uninitialized(gradY.shape)
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
