import Foundation

extension HeidelbergE2EReader: OCTFormatReader {
    public static var format: OCTFormat { .heidelbergE2E }
    public static var name: String { "Heidelberg .E2E" }

    public static func recognizes(_ candidate: OCTCandidate) -> Bool {
        candidate.head.starts(with: Array("CMDb".utf8))
    }

    public static func readVolumes(path: String, transform: IntensityTransform) throws -> [OCTVolume] {
        try read(path: path, transform: transform)
    }

    /// The patient chunk's id (the whole file is parsed); a file of several patients is an error.
    public static func headerPatientID(path: String) throws -> String? {
        let ids = Set(try read(path: path).compactMap(\.metadata.patientID))
        guard ids.count <= 1 else {
            throw OCTError.inconsistent(file: path, reason: "holds volumes of \(ids.count) patients (\(ids.sorted().joined(separator: ", ")))")
        }
        return ids.first
    }
}
