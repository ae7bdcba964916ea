/// Writes volumes in the Cirrus `.img` layout, for tests and synthetic datasets: the exact inverse of
/// ``CirrusImgReader`` (each frame byte-reversed, frames in order, no header).
public enum CirrusImgWriter {
    /// The file's bytes for `volume`.
    public static func bytes(of volume: OCTVolume) -> [UInt8] {
        let plane = volume.width * volume.height
        var out = [UInt8](repeating: 0, count: volume.pixels.count)
        volume.pixels.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                for frame in 0..<volume.frameCount {
                    for i in 0..<plane { target[frame * plane + i] = source[frame * plane + plane - 1 - i] }
                }
            }
        }
        return out
    }
}
