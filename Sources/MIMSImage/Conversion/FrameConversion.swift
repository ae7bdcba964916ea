extension DecodedImage {
    /// The image at 8 bits per sample with its native channels. 16-bit samples are scaled by
    /// round(v · 255 / 65535), i.e. (v · 255 + 32767) / 65535 in integers: exact, and 0 and 65535
    /// map to 0 and 255.
    public func to8Bit() -> Frame {
        switch samples {
        case let .uint8(values):
            return Frame(width: width, height: height, channels: channels, pixels: values)
        case let .uint16(values):
            let pixels = [UInt8](unsafeUninitializedCapacity: values.count) { buffer, initialized in
                values.withUnsafeBufferPointer { source in
                    for i in 0..<source.count {
                        buffer[i] = UInt8((UInt32(source[i]) * 255 + 32767) / 65535)
                    }
                }
                initialized = values.count
            }
            return Frame(width: width, height: height, channels: channels, pixels: pixels)
        }
    }

    /// The image as a uint8 frame with the channel count a dataset declares (1 or 3).
    public func frame(channels target: Int) throws -> Frame {
        try to8Bit().converted(toChannels: target)
    }
}

extension Frame {
    /// Converts to 1 (gray) or 3 (RGB) channels.
    ///
    /// - gray to RGB: replication;
    /// - RGB to gray: ITU-R BT.601 luma in Pillow's fixed point,
    ///   Y = (19595 R + 38470 G + 7471 B + 32768) >> 16, so results equal Pillow's `convert("L")`;
    /// - alpha (2nd of 2 channels, 4th of 4) is dropped, never blended.
    public func converted(toChannels target: Int) throws -> Frame {
        guard target == 1 || target == 3 else {
            throw ImageError.invalidArgument(reason: "frames have 1 or 3 channels, not \(target)")
        }
        guard (1...4).contains(channels) else {
            throw ImageError.invalidArgument(reason: "cannot convert a frame of \(channels) channels")
        }
        if channels == target { return self }
        let count = width * height
        let source = channels
        let pixels = [UInt8](unsafeUninitializedCapacity: count * target) { out, initialized in
            self.pixels.withUnsafeBufferPointer { input in
                for p in 0..<count {
                    let s = p * source
                    if target == 1 {
                        if source <= 2 {
                            out[p] = input[s]
                        } else {
                            let r = UInt32(input[s]), g = UInt32(input[s + 1]), b = UInt32(input[s + 2])
                            out[p] = UInt8((19595 * r + 38470 * g + 7471 * b + 32768) >> 16)
                        }
                    } else if source <= 2 {
                        out[3 * p] = input[s]; out[3 * p + 1] = input[s]; out[3 * p + 2] = input[s]
                    } else {
                        out[3 * p] = input[s]; out[3 * p + 1] = input[s + 1]; out[3 * p + 2] = input[s + 2]
                    }
                }
            }
            initialized = count * target
        }
        return Frame(width: width, height: height, channels: target, pixels: pixels)
    }
}
