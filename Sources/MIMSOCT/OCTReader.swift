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

    /// The patient id the export itself records, without decoding pixels where the format allows:
    /// the `.vol` header's PatientID, the E2E patient chunk (the whole file is parsed), the
    /// Cirrus file name's `<PID>_` part. Nil when the file records none (or is a TIFF stack or
    /// slice folder, which have no patient field).
    public static func headerPatientID(path: String) throws -> String? {
        switch detect(path: path) {
        case .spectralisVol:
            let mapped = try MappedFile(path: path, prefix: SpectralisVolHeader.size)
            let header = try SpectralisVolHeader.parse(ByteReader(bytes: mapped.bytes, file: path), headerOnly: true)
            return header.patientID.isEmpty ? nil : header.patientID
        case .heidelbergE2E:
            let ids = Set(try HeidelbergE2EReader.read(path: path).compactMap(\.metadata.patientID))
            guard ids.count <= 1 else {
                throw OCTError.inconsistent(file: path, reason: "holds volumes of \(ids.count) patients (\(ids.sorted().joined(separator: ", ")))")
            }
            return ids.first
        case .cirrusImg:
            return CirrusFileName((path as NSString).lastPathComponent).map(\.patientID).flatMap { $0.isEmpty ? nil : $0 }
        case .tiffStack, .sliceFolder, nil:
            return nil
        }
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
