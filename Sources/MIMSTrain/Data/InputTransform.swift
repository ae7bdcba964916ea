import MIMSCore
import MIMSShards
import MIMSTensor

/// docs/MODEL.md's input transform: uint8 to [0, 1], bilinear resize to the input size
/// (align_corners = false) when it differs, gray replicated to 3 channels, ImageNet normalization.
public enum InputTransform {
    public static let mean: [Float] = [0.485, 0.456, 0.406]
    public static let std: [Float] = [0.229, 0.224, 0.225]

    /// Frames [count, H, W, C] (C = 1 or 3) to [count, 3, h, w].
    public static func apply(_ frames: [UInt8], count: Int, shape: FrameShape, size: [Int]) -> Tensor {
        let (h, w, c) = (shape.height, shape.width, shape.channels)
        let (oh, ow) = (size[0], size[1])
        var out = Tensor.uninitialized([count, 3, oh, ow])
        for frame in 0..<count {
            var planes = Tensor.uninitialized([1, c, h, w])
            frames.withUnsafeBufferPointer { bytes in
                let base = frame * h * w * c
                for channel in 0..<c {
                    for i in 0..<h * w { planes.values[channel * h * w + i] = Float(bytes[base + i * c + channel]) / 255 }
                }
            }
            let resized = (oh == h && ow == w) ? planes : BilinearResize2D.forward(planes, height: oh, width: ow)
            let plane = oh * ow
            for channel in 0..<3 {
                let source = c == 1 ? 0 : channel
                let (m, s) = (mean[channel], std[channel])
                let target = (frame * 3 + channel) * plane
                for i in 0..<plane { out.values[target + i] = (resized.values[source * plane + i] - m) / s }
            }
        }
        return out
    }
}
