import Foundation
import MIMSImage

/// Multi-page TIFF stacks as volumes (one page per B-scan).
public enum TIFFStackFormat: OCTFormatReader {
    public static var format: OCTFormat { .tiffStack }
    public static var name: String { "TIFF stack" }
    public static func recognizes(_ candidate: OCTCandidate) -> Bool { !candidate.isFolder && ImageFormat.sniff(candidate.head) == .tiff }
    public static func readVolumes(path: String, transform: IntensityTransform) throws -> [OCTVolume] {
        [try StackReaders.readTIFFStack(path: path)]
    }
}

/// Folders of B-scan images as volumes (natural file-name order).
public enum SliceFolderFormat: OCTFormatReader {
    public static var format: OCTFormat { .sliceFolder }
    public static var name: String { "slice folder" }
    public static func recognizes(_ candidate: OCTCandidate) -> Bool { candidate.isFolder }
    public static func readVolumes(path: String, transform: IntensityTransform) throws -> [OCTVolume] {
        [try StackReaders.readSliceFolder(path: path)]
    }
    /// Every file of the folder but hidden ones, in natural order.
    public static func sourceFiles(path: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).filter { !$0.hasPrefix(".") }.sorted(by: StackReaders.naturalOrder).map { path + "/" + $0 }
    }
}
