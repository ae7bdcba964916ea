import MIMSCore
import MIMSPlot
import MIMSShards
import MIMSTensor

/// Turns a contribution map into pictures at the slice's own size: P is resized bilinearly
/// (align_corners = false) to the frame, P*; the overlay is H = 0.6 R + 0.3 P* on the gray slice R,
/// and a colour version blends jet(P*) instead. Both are drawn side by side.
public enum HeatmapRenderer {
    /// P* for slice `position` of `result`: float values 0...255 at the frame size.
    public static func upsampled(_ result: HeatmapMaker.Result, position: Int, height: Int, width: Int) -> [Float] {
        let (h, w) = (result.contribution.shape[1], result.contribution.shape[2])
        let plane = Array(result.quantized[position * h * w..<(position + 1) * h * w]).map(Float.init)
        return BilinearResize2D.forward(Tensor(shape: [1, 1, h, w], values: plane), height: height, width: width).values
    }

    /// Gray frame pixels (luminance for RGB) of one stored frame.
    public static func gray(_ frame: [UInt8], shape: FrameShape) -> [Float] {
        let count = shape.height * shape.width
        if shape.channels == 1 { return frame.map(Float.init) }
        return (0..<count).map { i in
            0.299 * Float(frame[3 * i]) + 0.587 * Float(frame[3 * i + 1]) + 0.114 * Float(frame[3 * i + 2])
        }
    }

    /// RGB pixels [height, 2 * width, 3]: the gray overlay on the left, the jet one on the right.
    public static func sideBySide(gray r: [Float], heat p: [Float], height: Int, width: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: height * width * 2 * 3)
        func byte(_ v: Float) -> UInt8 { UInt8(max(0, min(255, v.rounded()))) }
        for y in 0..<height {
            for x in 0..<width {
                let i = y * width + x
                let g = byte(0.6 * r[i] + 0.3 * p[i])
                let left = (y * 2 * width + x) * 3
                out[left] = g; out[left + 1] = g; out[left + 2] = g
                let (jr, jg, jb) = ColorMap.jet(p[i] / 255)
                let right = (y * 2 * width + width + x) * 3
                out[right] = byte(0.6 * r[i] + 0.3 * 255 * jr)
                out[right + 1] = byte(0.6 * r[i] + 0.3 * 255 * jg)
                out[right + 2] = byte(0.6 * r[i] + 0.3 * 255 * jb)
            }
        }
        return out
    }
}

/// `.npy` (NumPy format 1.0) writing for the raw maps, so scripts read them with `numpy.load`.
public enum NPYWriter {
    public static func float32(_ values: [Float], shape: [Int]) -> [UInt8] {
        let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let length = UInt16(header.utf8.count)
        bytes += [UInt8(length & 0xff), UInt8(length >> 8)] + Array(header.utf8)
        bytes.reserveCapacity(bytes.count + 4 * values.count)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
        return bytes
    }
}
