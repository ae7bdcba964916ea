/// Max pooling (PyTorch `F.max_pool2d`, padding counts as −∞).
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
