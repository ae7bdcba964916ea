import MIMSBLAS
import MIMSCore
#if canImport(Glibc)
import Glibc
#endif

/// 2D convolution as PyTorch's `F.conv2d` (cross-correlation, NCHW, OIHW weights): forward and
/// backward through im2col and sgemm; a 1x1, stride-1, unpadded convolution is a plain GEMM.
public struct Conv2DGeometry: Equatable, Sendable {
    public var stride: Int
    public var padding: Int
    public var dilation: Int

    public init(stride: Int = 1, padding: Int = 0, dilation: Int = 1) {
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
    }

    func output(_ size: Int, kernel: Int) -> Int {
        (size + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1
    }
}

public enum Conv2D {
    /// y = conv(x, weight) + bias.
    public static func forward(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry: Conv2DGeometry) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, kh, kw) = (weight.shape[0], weight.shape[2], weight.shape[3])
        precondition(weight.shape[1] == c, "weight expects \(weight.shape[1]) input channels, x has \(c)")
        let (oh, ow) = (geometry.output(h, kernel: kh), geometry.output(w, kernel: kw))
        let k = c * kh * kw, pixels = oh * ow
        var y = Tensor.zeros([n, o, oh, ow])
        let direct = kh == 1 && kw == 1 && geometry.stride == 1 && geometry.padding == 0
        var cols = [Float](repeating: 0, count: direct ? 0 : k * pixels)
        x.values.withUnsafeBufferPointer { xs in
            weight.values.withUnsafeBufferPointer { ws in
                y.values.withUnsafeMutableBufferPointer { ys in
                    for image in 0..<n {
                        let input = xs.baseAddress! + image * c * h * w
                        let output = ys.baseAddress! + image * o * pixels
                        // The GEMM's right operand: the image itself for a plain 1x1, else its columns.
                        cols.withUnsafeMutableBufferPointer { buffer in
                            if !direct { im2col(input, c, h, w, kh, kw, oh, ow, geometry, into: buffer.baseAddress!) }
                            ConvGEMMClock.timed { sgemm(transposeA: false, transposeB: false, m: o, n: pixels, k: k, alpha: 1, a: ws.baseAddress!, lda: k,
                                  b: direct ? input : UnsafePointer(buffer.baseAddress!), ldb: pixels, beta: 0, c: output, ldc: pixels) }
                        }
                        if let bias {
                            for channel in 0..<o {
                                let b = bias.values[channel]
                                for p in 0..<pixels { output[channel * pixels + p] += b }
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    /// Gradients of the input, the weight and the bias for the output gradient `gradY`.
    public static func backward(_ x: Tensor, weight: Tensor, gradY: Tensor, geometry: Conv2DGeometry, hasBias: Bool)
        -> (gradX: Tensor, gradWeight: Tensor, gradBias: Tensor?) {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, kh, kw) = (weight.shape[0], weight.shape[2], weight.shape[3])
        let (oh, ow) = (gradY.shape[2], gradY.shape[3])
        let k = c * kh * kw, pixels = oh * ow
        var gradX = Tensor.zeros(x.shape), gradW = Tensor.zeros(weight.shape)
        var gradB: Tensor? = hasBias ? Tensor.zeros([o]) : nil
        let direct = kh == 1 && kw == 1 && geometry.stride == 1 && geometry.padding == 0
        var cols = [Float](repeating: 0, count: direct ? 0 : k * pixels)
        var gradCols = [Float](repeating: 0, count: direct ? 0 : k * pixels)
        x.values.withUnsafeBufferPointer { xs in
            weight.values.withUnsafeBufferPointer { ws in
                gradY.values.withUnsafeBufferPointer { gys in
                    gradX.values.withUnsafeMutableBufferPointer { gxs in
                        gradW.values.withUnsafeMutableBufferPointer { gws in
                            for image in 0..<n {
                                let input = xs.baseAddress! + image * c * h * w
                                let gy = gys.baseAddress! + image * o * pixels
                                let gx = gxs.baseAddress! + image * c * h * w
                                // gW += gY · colsᵀ ; gCols = Wᵀ · gY, scattered back by col2im (for a plain
                                // 1x1 the image is its own columns and gCols is gX).
                                cols.withUnsafeMutableBufferPointer { buffer in
                                    if !direct { im2col(input, c, h, w, kh, kw, oh, ow, geometry, into: buffer.baseAddress!) }
                                    ConvGEMMClock.timed { sgemm(transposeA: false, transposeB: true, m: o, n: k, k: pixels, alpha: 1, a: gy, lda: pixels,
                                          b: direct ? input : UnsafePointer(buffer.baseAddress!), ldb: pixels, beta: 1, c: gws.baseAddress!, ldc: k) }
                                }
                                gradCols.withUnsafeMutableBufferPointer { gcs in
                                    ConvGEMMClock.timed { sgemm(transposeA: true, transposeB: false, m: k, n: pixels, k: o, alpha: 1, a: ws.baseAddress!, lda: k,
                                          b: gy, ldb: pixels, beta: 0, c: direct ? gx : gcs.baseAddress!, ldc: pixels) }
                                    if !direct { col2im(gcs.baseAddress!, c, h, w, kh, kw, oh, ow, geometry, into: gx) }
                                }
                                if gradB != nil {
                                    for channel in 0..<o {
                                        var sum: Float = 0
                                        for p in 0..<pixels { sum += gy[channel * pixels + p] }
                                        gradB!.values[channel] += sum
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (gradX, gradW, gradB)
    }

    /// Rows (channel, ky, kx) × columns (output pixel) of input samples; zero where padded.
    static func im2col(_ input: UnsafePointer<Float>, _ c: Int, _ h: Int, _ w: Int, _ kh: Int, _ kw: Int, _ oh: Int, _ ow: Int,
                       _ g: Conv2DGeometry, into cols: UnsafeMutablePointer<Float>) {
        walk(cols, UnsafeMutablePointer(mutating: input), c, h, w, kh, kw, oh, ow, g, gather: true)
    }

    /// The adjoint of im2col: adds each column entry back to the input sample it came from.
    static func col2im(_ cols: UnsafePointer<Float>, _ c: Int, _ h: Int, _ w: Int, _ kh: Int, _ kw: Int, _ oh: Int, _ ow: Int,
                       _ g: Conv2DGeometry, into input: UnsafeMutablePointer<Float>) {
        walk(UnsafeMutablePointer(mutating: cols), input, c, h, w, kh, kw, oh, ow, g, gather: false)
    }

    /// Visits every (column entry, input sample) pair of the convolution once: gathers input
    /// samples into the columns (zeros for padding), or scatters column entries back onto the
    /// input. Per output row the in-bounds columns form one range, so the inner loops carry no
    /// bounds tests (and copy contiguously at stride 1); channels go to the two cores when large.
    private static func walk(_ cols: UnsafeMutablePointer<Float>, _ input: UnsafeMutablePointer<Float>, _ c: Int, _ h: Int, _ w: Int,
                             _ kh: Int, _ kw: Int, _ oh: Int, _ ow: Int, _ g: Conv2DGeometry, gather: Bool) {
        let (colsPointer, inputPointer) = (SendablePointer(cols), SendablePointer(input))
        let perChannel = kh * kw * oh * ow
        let body: @Sendable (Int) -> Void = { channel in
            let plane = inputPointer.pointer + channel * h * w
            var row = channel * kh * kw
            for ky in 0..<kh {
                for kx in 0..<kw {
                    let column = colsPointer.pointer + row * oh * ow
                    let shift = kx * g.dilation - g.padding
                    // ox with 0 <= ox * stride + shift < w
                    let low = min(ow, max(0, (-shift + g.stride - 1) / g.stride))
                    let high = max(low, min(ow, (w - 1 - shift) >= 0 ? (w - 1 - shift) / g.stride + 1 : 0))
                    for oy in 0..<oh {
                        let iy = oy * g.stride - g.padding + ky * g.dilation
                        let out = column + oy * ow
                        guard iy >= 0 && iy < h else {
                            if gather { out.update(repeating: 0, count: ow) }
                            continue
                        }
                        let source = plane + iy * w + shift
                        if gather {
                            if low > 0 { out.update(repeating: 0, count: low) }
                            if g.stride == 1 {
                                (out + low).update(from: source + low, count: high - low)
                            } else {
                                for ox in low..<high { out[ox] = source[ox * g.stride] }
                            }
                            if high < ow { (out + high).update(repeating: 0, count: ow - high) }
                        } else if g.stride == 1 {
                            for ox in low..<high { source[ox] += out[ox] }
                        } else {
                            for ox in low..<high { source[ox * g.stride] += out[ox] }
                        }
                    }
                    row += 1
                }
            }
        }
        if c * perChannel >= 1 << 17 && c >= 2 {
            _ = Parallel.mapRanges(count: c, parts: Parallel.workers) { range in for channel in range { body(channel) } }
        } else {
            for channel in 0..<c { body(channel) }
        }
    }
}

/// Time spent inside the convolutions' sgemm calls, for `mims-train bench` (off unless enabled).
public enum ConvGEMMClock {
    nonisolated(unsafe) public static var enabled = false
    nonisolated(unsafe) public static var seconds = 0.0

    @inline(__always)
    static func timed(_ body: () -> Void) {
        guard enabled else { return body() }
        var start = timespec(), end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        body()
        clock_gettime(CLOCK_MONOTONIC, &end)
        seconds += Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) * 1e-9
    }
}
