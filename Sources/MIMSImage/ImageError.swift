/// Why an image could not be decoded or encoded; every case names the file.
public enum ImageError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The bytes are damaged or truncated.
    case corrupt(file: String, reason: String)
    /// Valid, but a kind of image this decoder does not handle.
    case unsupported(file: String, reason: String)
    /// The declared size is beyond the limits or beyond what the file's bytes can hold.
    case tooLarge(file: String, reason: String)
    /// Not JPEG, PNG or TIFF by its first bytes.
    case unknownFormat(file: String)
    /// The file could not be read.
    case unreadable(file: String, reason: String)
    /// The caller asked for something impossible (e.g. 5 channels).
    case invalidArgument(reason: String)

    public var description: String {
        switch self {
        case let .corrupt(file, reason): "\(file): corrupt image: \(reason)"
        case let .unsupported(file, reason): "\(file): unsupported image: \(reason)"
        case let .tooLarge(file, reason): "\(file): image too large: \(reason)"
        case let .unknownFormat(file): "\(file): not a JPEG, PNG or TIFF file"
        case let .unreadable(file, reason): "\(file): cannot read: \(reason)"
        case let .invalidArgument(reason): "invalid argument: \(reason)"
        }
    }
}
