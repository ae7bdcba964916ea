extension TopconReader: OCTFormatReader {
    public static var format: OCTFormat { .topcon }
    public static var name: String { "Topcon .fds/.fda" }

    /// `FOCT`, the signature of both `.fds` and `.fda`.
    public static func recognizes(_ candidate: OCTCandidate) -> Bool {
        candidate.head.starts(with: Array("FOCT".utf8))
    }

    public static func readVolumes(path: String, transform: IntensityTransform) throws -> [OCTVolume] {
        [try read(path: path)]
    }

    /// The id of `@PATIENT_INFO_02`, read without decoding the B-scans.
    public static func headerPatientID(path: String) throws -> String? {
        let loaded = try LoadedFile(path: path)
        let reader = ByteReader(bytes: loaded.bytes, file: path)
        var warnings: [String] = []
        return try readPatient(reader, try TopconContainer.parse(reader), warnings: &warnings)
    }
}
