import Foundation

extension HeyexXMLReader: OCTFormatReader {
    public static var format: OCTFormat { .heyexXML }
    public static var name: String { "Heyex XML" }

    /// An `.xml` file whose first 4 KiB open a `HEDX` element, or a folder holding exactly one.
    public static func recognizes(_ candidate: OCTCandidate) -> Bool {
        let file: String
        if candidate.isFolder {
            guard let found = try? xmlFile(for: candidate.path) else { return false }
            file = found
        } else {
            guard candidate.name.lowercased().hasSuffix(".xml") else { return false }
            file = candidate.path
        }
        guard let handle = FileHandle(forReadingAtPath: file) else { return false }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 4096)) ?? Data()
        return head.range(of: Data("<HEDX".utf8)) != nil
    }

    public static func readVolumes(path: String, transform: IntensityTransform) throws -> [OCTVolume] {
        [try read(path: path)]
    }

    /// `Patient/PatientID`, from the XML alone.
    public static func headerPatientID(path: String) throws -> String? {
        try export(path: path).patientID
    }
}
