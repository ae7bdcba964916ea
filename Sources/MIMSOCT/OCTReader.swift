import Foundation

/// The vendor format a volume came from. Its raw value is the format's name in manifests
/// (`reader:`) and shard metadata; each case has one reader in ``OCTReader/registry``.
public enum OCTFormat: String, Sendable, CaseIterable, Codable {
    case cirrusImg = "cirrus-img"
    case spectralisVol = "spectralis-vol"
    case heidelbergE2E = "heidelberg-e2e"
    case tiffStack = "tiff-stack"
    case sliceFolder = "slice-folder"
    case topcon = "topcon"
    case heyexXML = "heyex-xml"
    case dicomOPT = "dicom-opt"
}

/// Reads any supported OCT export through the registry of formats, recognising each file by
/// content (magic bytes) and, for headerless Cirrus files, by name and size.
public enum OCTReader {
    /// Every format, in detection order (signatures first, Heyex XML before slice folders since its
    /// folders hold images too; any other folder is a slice folder; Cirrus, recognised by name and
    /// size, last, and only among files). A new format is its `OCTFormat` case above, its entry
    /// here and its reader's file: manifests, `inspect` and error texts take the list from here.
    public static let registry: [any OCTFormatReader.Type] = [
        SpectralisVolReader.self, HeidelbergE2EReader.self, TopconReader.self, HeyexXMLReader.self, TIFFStackFormat.self, DICOMOPTReader.self,
        SliceFolderFormat.self, CirrusImgReader.self,
    ]

    /// The formats' names in registry order, the last joined by `conjunction`: "Spectralis .vol,
    /// ..., slice folder or Cirrus .img".
    public static func formatNames(conjunction: String) -> String {
        let names = registry.map { $0.name }
        return names.dropLast().joined(separator: ", ") + " \(conjunction) " + names.last!
    }

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
            throw OCTError.unrecognized(file: path, reason: "not a \(formatNames(conjunction: "or")) export")
        }
        return try reader(for: format).readVolumes(path: path, transform: transform)
    }
}
