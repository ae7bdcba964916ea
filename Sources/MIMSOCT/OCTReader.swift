import MIMSImage
import Foundation

/// Reads any supported OCT export, recognising the format by content (magic bytes) and, for
/// headerless Cirrus files, by name and size.
public enum OCTReader {
    /// The format of the file or folder at `path`, or nil when no reader recognises it.
    public static func detect(path: String) -> OCTFormat? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
        if isDirectory.boolValue { return .sliceFolder }
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let head = [UInt8]((try? handle.read(upToCount: 8)) ?? Data())
        if head.starts(with: Array("HSF-OCT-".utf8)) { return .spectralisVol }
        if head.starts(with: Array("CMDb".utf8)) { return .heidelbergE2E }
        if ImageFormat.sniff(head) == .tiff { return .tiffStack }
        let name = (path as NSString).lastPathComponent
        if CirrusFileName(name) != nil { return .cirrusImg }
        if name.lowercased().hasSuffix(".img"),
           let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int,
           CirrusImgReader.knownSizes[size] != nil { return .cirrusImg }
        return nil
    }

    /// Every volume in the export (an E2E file can hold several).
    public static func read(path: String, transform: IntensityTransform = .fourthRoot) throws -> [OCTVolume] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw OCTError.unreadable(file: path, reason: "no such file or folder")
        }
        if !isDirectory.boolValue, let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int, size == 0 {
            throw OCTError.empty(file: path)
        }
        switch detect(path: path) {
        case .spectralisVol: return [try SpectralisVolReader.read(path: path, transform: transform)]
        case .heidelbergE2E: return try HeidelbergE2EReader.read(path: path, transform: transform)
        case .cirrusImg: return [try CirrusImgReader.read(path: path)]
        case .tiffStack: return [try StackReaders.readTIFFStack(path: path)]
        case .sliceFolder: return [try StackReaders.readSliceFolder(path: path)]
        case nil:
            throw OCTError.unrecognized(file: path, reason: "not a Spectralis .vol, Heidelberg .E2E, TIFF stack, slice folder or Cirrus .img export")
        }
    }
}
