import MIMSCore

/// Bilinear resizing exactly as PyTorch's
/// `F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False, antialias=False)`.
///
/// For output index d along an axis of input length n and output length m, the source coordinate is
/// s = max(0, (d + 0.5)·n/m − 0.5); i0 = ⌊s⌋, i1 = min(i0 + 1, n − 1), λ = s − i0; the value is
/// (1−λh)((1−λw)x00 + λw·x01) + λh((1−λw)x10 + λw·x11), computed in Float in that order: the loop
/// is MIMSCore's `BilinearPlaneResize`, which the tensor op `BilinearResize2D` runs too.
public enum BilinearResize {
    /// Resizes planar float data: `channels` planes of `height` x `width`, into `output` planes of
    /// `outHeight` x `outWidth` (the NCHW layout of one image).
    public static func resize(planes input: UnsafeBufferPointer<Float>, channels: Int, height: Int, width: Int,
                              into output: UnsafeMutableBufferPointer<Float>, outHeight: Int, outWidth: Int) {
        precondition(input.count == channels * height * width && output.count == channels * outHeight * outWidth)
        let resize = BilinearPlaneResize(height: height, width: width, outHeight: outHeight, outWidth: outWidth)
        for c in 0..<channels {
            let plane = input.baseAddress! + c * height * width
            let target = output.baseAddress! + c * outHeight * outWidth
            resize({ plane[$0 * width + $1] }, store: { target[$0 * outWidth + $1] = $2 })
        }
    }

    /// Resizes a uint8 frame: the float result of ``resize(planes:channels:height:width:into:outHeight:outWidth:)``
    /// rounded half away from zero and clamped to 0...255.
    public static func resize(_ frame: Frame, height outHeight: Int, width outWidth: Int) throws -> Frame {
        guard outHeight > 0, outWidth > 0 else {
            throw ImageError.invalidArgument(reason: "cannot resize to \(outHeight)x\(outWidth)")
        }
        if outHeight == frame.height && outWidth == frame.width { return frame }
        let resize = BilinearPlaneResize(height: frame.height, width: frame.width, outHeight: outHeight, outWidth: outWidth)
        let channels = frame.channels, width = frame.width
        let pixels = [UInt8](unsafeUninitializedCapacity: outHeight * outWidth * channels) { out, initialized in
            frame.pixels.withUnsafeBufferPointer { input in
                let base = input.baseAddress!
                for c in 0..<channels {
                    resize({ Float(base[($0 * width + $1) * channels + c]) }, store: {
                        out[($0 * outWidth + $1) * channels + c] = UInt8(min(255, max(0, $2.rounded(.toNearestOrAwayFromZero))))
                    })
                }
            }
            initialized = outHeight * outWidth * channels
        }
        return Frame(width: outWidth, height: outHeight, channels: channels, pixels: pixels)
    }
}
