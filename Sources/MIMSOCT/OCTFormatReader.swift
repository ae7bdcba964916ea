import Foundation

/// What format detection may look at: the path, whether it is a folder, its first bytes, its
/// file name and size. Read once per file, shared by every reader's `recognizes`.
public struct OCTCandidate: Sendable {
    public var path: String
    public var isFolder: Bool
    /// Up to the first 132 bytes (empty for folders): DICOM's "DICM" sits at 128.
    public var head: [UInt8]
    public var name: String
    public var size: Int

    public init?(path: String) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
        self.path = path
        isFolder = isDirectory.boolValue
        name = (path as NSString).lastPathComponent
        size = isFolder ? 0 : ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int) ?? 0
        if isFolder {
            head = []
        } else {
            guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
            defer { try? handle.close() }
            head = [UInt8]((try? handle.read(upToCount: 132)) ?? Data())
        }
    }
}

/// One OCT export format: how it is recognised, read, and where it records the patient. A new
/// format is one type conforming to this (in `<Reader>+OCTFormatReader.swift`) plus its
/// `OCTFormat` case and entry in ``OCTReader/registry``; detection, `mims-ingest inspect`, the
/// manifest's `reader:` names, ingest and `patient: header` follow.
public protocol OCTFormatReader {
    static var format: OCTFormat { get }
    /// The format in words, as error messages and help list it ("Spectralis .vol").
    static var name: String { get }
    /// False for formats without a signature (Cirrus `.img` is recognised by name and size), so
    /// a manifest may name the reader for files detection cannot place.
    static var recognizedByContent: Bool { get }
    static func recognizes(_ candidate: OCTCandidate) -> Bool
    static func readVolumes(path: String, transform: IntensityTransform) throws -> [OCTVolume]
    /// The patient id the export records, nil when it records none.
    static func headerPatientID(path: String) throws -> String?
    /// The metadata of the export's first volume, without decoding pixels where the format allows
    /// (manifest filters read it before splitting).
    static func headerMetadata(path: String) throws -> OCTMetadata
    /// The files the export at `path` consists of, in the order the record's source digest reads
    /// them; by default the file itself.
    static func sourceFiles(path: String) throws -> [String]
}

extension OCTFormatReader {
    public static var recognizedByContent: Bool { true }
    public static func headerPatientID(path: String) throws -> String? { nil }
    public static func headerMetadata(path: String) throws -> OCTMetadata {
        guard let first = try readVolumes(path: path, transform: .fourthRoot).first else { throw OCTError.inconsistent(file: path, reason: "the export holds no volume") }
        return first.metadata
    }
    public static func sourceFiles(path: String) throws -> [String] { [path] }
}
