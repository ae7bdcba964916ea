/// The still-image formats MIMSImage decodes, recognised by content, not by file extension.
public enum ImageFormat: String, Sendable, CaseIterable {
    case jpeg
    case png
    case tiff

    /// Sniffs the format from a file's first bytes.
    public static func sniff<C: Collection>(_ bytes: C) -> ImageFormat? where C.Element == UInt8 {
        let head = Array(bytes.prefix(8))
        if head.count >= 3, head[0] == 0xFF, head[1] == 0xD8, head[2] == 0xFF { return .jpeg }
        if head.count >= 8, head == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] { return .png }
        // Classic TIFF (42) and BigTIFF (43), which libtiff reads alike.
        if head.count >= 4, (head[0] == 0x49 && head[1] == 0x49 && (head[2] == 42 || head[2] == 43) && head[3] == 0)
            || (head[0] == 0x4D && head[1] == 0x4D && head[2] == 0 && (head[3] == 42 || head[3] == 43)) { return .tiff }
        return nil
    }
}
