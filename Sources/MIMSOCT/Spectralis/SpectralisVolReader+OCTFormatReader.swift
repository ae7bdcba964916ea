extension SpectralisVolReader: OCTFormatReader {
    public static var format: OCTFormat { .spectralisVol }
    public static var name: String { "Spectralis .vol" }

    public static func recognizes(_ candidate: OCTCandidate) -> Bool {
        candidate.head.starts(with: Array("HSF-OCT-".utf8))
            || (!candidate.isFolder && SpectralisVolHeader.recognizesUnsigned(path: candidate.path, name: candidate.name, size: candidate.size))
    }

    public static func readVolumes(path: String, transform: IntensityTransform) throws -> [OCTVolume] {
        [try read(path: path, transform: transform)]
    }

    /// The header's PatientID, read from the first 2 KiB only.
    public static func headerPatientID(path: String) throws -> String? {
        let mapped = try LoadedFile(path: path, prefix: SpectralisVolHeader.size)
        let header = try SpectralisVolHeader.parse(ByteReader(bytes: mapped.bytes, file: path), headerOnly: true)
        return header.patientID.isEmpty ? nil : header.patientID
    }
}
