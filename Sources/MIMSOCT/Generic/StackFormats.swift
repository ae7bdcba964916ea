import MIMSImage

/// Multi-page TIFF stacks as volumes (one page per B-scan).
public enum TIFFStackFormat: OCTFormatReader {
    public static var format: OCTFormat { .tiffStack }
    public static func recognizes(_ candidate: OCTCandidate) -> Bool { !candidate.isFolder && ImageFormat.sniff(candidate.head) == .tiff }
    public static func readVolumes(path: String, transform: IntensityTransform) throws -> [OCTVolume] {
        [try StackReaders.readTIFFStack(path: path)]
    }
}

/// Folders of B-scan images as volumes (natural file-name order).
public enum SliceFolderFormat: OCTFormatReader {
    public static var format: OCTFormat { .sliceFolder }
    public static func recognizes(_ candidate: OCTCandidate) -> Bool { candidate.isFolder }
    public static func readVolumes(path: String, transform: IntensityTransform) throws -> [OCTVolume] {
        [try StackReaders.readSliceFolder(path: path)]
    }
}
