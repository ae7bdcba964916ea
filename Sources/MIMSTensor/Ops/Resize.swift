import MIMSCore

/// Bilinear resize of NCHW tensors as PyTorch's `F.interpolate(mode="bilinear",
/// align_corners=False)`, with its backward (each output's gradient spread back on its 4 sources).
public enum BilinearResize2D {
    public static func forward(_ x: Tensor, height: Int, width: Int) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let resize = BilinearPlaneResize(height: h, width: w, outHeight: height, outWidth: width)
        var y = Tensor.zeros([n, c, height, width])
        for plane in 0..<n * c {
            let input = plane * h * w, output = plane * height * width
            resize({ x.values[input + $0 * w + $1] }, store: { y.values[output + $0 * width + $1] = $2 })
        }
        return y
    }

    public static func backward(_ gradY: Tensor, inputShape: [Int]) -> Tensor {
        let (h, w) = (inputShape[2], inputShape[3])
        let (height, width) = (gradY.shape[2], gradY.shape[3])
        let rows = BilinearAxis(input: h, output: height), cols = BilinearAxis(input: w, output: width)
        var gradX = Tensor.zeros(inputShape)
        for plane in 0..<inputShape[0] * inputShape[1] {
            let input = plane * h * w, output = plane * height * width
            for oy in 0..<height {
                let r0 = input + rows.i0[oy] * w, r1 = input + rows.i1[oy] * w
                for ox in 0..<width {
                    let g = gradY.values[output + oy * width + ox]
                    let (a, b) = (cols.i0[ox], cols.i1[ox])
                    gradX.values[r0 + a] += rows.l0[oy] * cols.l0[ox] * g
                    gradX.values[r0 + b] += rows.l0[oy] * cols.l1[ox] * g
                    gradX.values[r1 + a] += rows.l1[oy] * cols.l0[ox] * g
                    gradX.values[r1 + b] += rows.l1[oy] * cols.l1[ox] * g
                }
            }
        }
        return gradX
    }
}
