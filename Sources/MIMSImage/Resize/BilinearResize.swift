import MIMSCore

/// Bilinear resizing exactly as PyTorch's
/// `F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False, antialias=False)`.
///
/// For output index d along an axis of input length n and output length m, the source coordinate is
/// s = max(0, (d + 0.5)·n/m − 0.5); i0 = ⌊s⌋, i1 = min(i0 + 1, n − 1), λ = s − i0; the value is
/// (1−λh)((1−λw)x00 + λw·x01) + λh((1−λw)x10 + λw·x11), computed in Float in that order.
public enum BilinearResize {
    /// Resizes planar float data: `channels` planes of `height` x `width`, into `output` planes of
    /// `outHeight` x `outWidth` (the NCHW layout of one image).
    public static func resize(planes input: UnsafeBufferPointer<Float>, channels: Int, height: Int, width: Int,
                              into output: UnsafeMutableBufferPointer<Float>, outHeight: Int, outWidth: Int) {
        precondition(input.count == channels * height * width && output.count == channels * outHeight * outWidth)
        let rows = BilinearAxis(input: height, output: outHeight), cols = BilinearAxis(input: width, output: outWidth)
        for c in 0..<channels {
            let plane = input.baseAddress! + c * height * width
            let target = output.baseAddress! + c * outHeight * outWidth
            for y in 0..<outHeight {
                let r0 = plane + rows.i0[y] * width, r1 = plane + rows.i1[y] * width
                let h0 = rows.l0[y], h1 = rows.l1[y]
                for x in 0..<outWidth {
                    let a = cols.i0[x], b = cols.i1[x], w0 = cols.l0[x], w1 = cols.l1[x]
                    target[y * outWidth + x] = h0 * (w0 * r0[a] + w1 * r0[b]) + h1 * (w0 * r1[a] + w1 * r1[b])
                }
            }
        }
    }

    /// Resizes a uint8 frame: the float result of ``resize(planes:channels:height:width:into:outHeight:outWidth:)``
    /// rounded half away from zero and clamped to 0...255.
    public static func resize(_ frame: Frame, height outHeight: Int, width outWidth: Int) throws -> Frame {
        guard outHeight > 0, outWidth > 0 else {
            throw ImageError.invalidArgument(reason: "cannot resize to \(outHeight)x\(outWidth)")
        }
        if outHeight == frame.height && outWidth == frame.width { return frame }
        let rows = BilinearAxis(input: frame.height, output: outHeight), cols = BilinearAxis(input: frame.width, output: outWidth)
        let channels = frame.channels, width = frame.width
        let pixels = [UInt8](unsafeUninitializedCapacity: outHeight * outWidth * channels) { out, initialized in
            frame.pixels.withUnsafeBufferPointer { input in
                let base = input.baseAddress!
                for y in 0..<outHeight {
                    let r0 = base + rows.i0[y] * width * channels, r1 = base + rows.i1[y] * width * channels
                    let h0 = rows.l0[y], h1 = rows.l1[y]
                    for x in 0..<outWidth {
                        let a = cols.i0[x] * channels, b = cols.i1[x] * channels
                        let w0 = cols.l0[x], w1 = cols.l1[x]
                        for c in 0..<channels {
                            let v = h0 * (w0 * Float(r0[a + c]) + w1 * Float(r0[b + c]))
                                + h1 * (w0 * Float(r1[a + c]) + w1 * Float(r1[b + c]))
                            out[(y * outWidth + x) * channels + c] = UInt8(min(255, max(0, v.rounded(.toNearestOrAwayFromZero))))
                        }
                    }
                }
            }
            initialized = outHeight * outWidth * channels
        }
        return Frame(width: outWidth, height: outHeight, channels: channels, pixels: pixels)
    }
}
