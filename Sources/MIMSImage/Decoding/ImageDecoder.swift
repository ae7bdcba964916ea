#if canImport(Glibc)
import Glibc
#endif

/// Decodes a still image of any supported format, chosen by content.
public enum ImageDecoder {
    /// Decodes `bytes`; for a multi-page TIFF, its first page.
    public static func decode(_ bytes: [UInt8], file: String, limits: DecodeLimits = .default) throws -> DecodedImage {
        switch ImageFormat.sniff(bytes) {
        case .jpeg: return try JPEGDecoder.decode(bytes, file: file, limits: limits)
        case .png: return try PNGDecoder.decode(bytes, file: file, limits: limits)
        case .tiff:
            let decoder = try TIFFDecoder(bytes, file: file, limits: limits)
            var image = try decoder.decodePage(0)
            image.pageCount = decoder.pageCount
            return image
        case nil:
            if bytes.isEmpty { throw ImageError.corrupt(file: file, reason: "file is empty") }
            throw ImageError.unknownFormat(file: file)
        }
    }

    /// Reads and decodes the file at `path`.
    public static func decode(path: String, limits: DecodeLimits = .default) throws -> DecodedImage {
        try decode(FileBytes.read(path), file: path, limits: limits)
    }
}

/// Whole-file reads for images (which are small); refuses files beyond `maxBytes`.
public enum FileBytes {
    public static func read(_ path: String, maxBytes: Int = 1 << 31) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ImageError.unreadable(file: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ImageError.unreadable(file: path, reason: String(cString: strerror(errno))) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw ImageError.unreadable(file: path, reason: "not a regular file") }
        let size = Int(info.st_size)
        guard size <= maxBytes else { throw ImageError.tooLarge(file: path, reason: "file is \(size) bytes") }
        return try [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            var done = 0
            while done < size {
                let n = Glibc.read(fd, buffer.baseAddress! + done, size - done)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw ImageError.unreadable(file: path, reason: n == 0 ? "file shrank while reading" : String(cString: strerror(errno))) }
                done += n
            }
            initialized = size
        }
    }
}
