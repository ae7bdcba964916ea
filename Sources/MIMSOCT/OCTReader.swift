import Foundation

/// Reads any supported OCT export through the registry of formats, recognising each file by
/// content (magic bytes) and, for headerless Cirrus files, by name and size.
public enum OCTReader {
    /// Every format, in detection order (signatures first, Heyex XML before slice folders since its folders hold images too; Cirrus, recognised by name, last but
    /// one; a folder is a slice folder).
    public static let registry: [any OCTFormatReader.Type] = [
        SpectralisVolReader.self, HeidelbergE2EReader.self, TopconReader.self, HeyexXMLReader.self, TIFFStackFormat.self, DICOMOPTReader.self,
        CirrusImgReader.self, SliceFolderFormat.self,
    ]

    /// The reader of `format`.
    public static func reader(for format: OCTFormat) -> any OCTFormatReader.Type {
        registry.first { $0.format == format }!
    }

    /// The format of the file or folder at `path`, or nil when no reader recognises it.
    public static func detect(path: String) -> OCTFormat? {
        guard let candidate = OCTCandidate(path: path) else { return nil }
        return registry.first { $0.recognizes(candidate) }?.format
    }

    /// The patient id the export itself records, without decoding pixels where the format allows
    /// (see each reader's `headerPatientID`). Nil when the file records none.
    public static func headerPatientID(path: String, as named: OCTFormat? = nil) throws -> String? {
        guard let format = named ?? detect(path: path) else { return nil }
        return try reader(for: format).headerPatientID(path: path)
    }

    /// Every volume in the export (an E2E file can hold several), read as `format` when given,
    /// else as what detection finds.
    public static func read(path: String, as format: OCTFormat? = nil, transform: IntensityTransform = .fourthRoot) throws -> [OCTVolume] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw OCTError.unreadable(file: path, reason: "no such file or folder")
        }
        if !isDirectory.boolValue, let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int, size == 0 {
            throw OCTError.empty(file: path)
        }
        guard let format = format ?? detect(path: path) else {
            throw OCTError.unrecognized(file: path, reason: "not a Spectralis .vol, Heidelberg .E2E, Topcon .fds/.fda, Heyex XML, TIFF stack, DICOM, slice folder or Cirrus .img export")
        }
        return try reader(for: format).readVolumes(path: path, transform: transform)
    }
}
