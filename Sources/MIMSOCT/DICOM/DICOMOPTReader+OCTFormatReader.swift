extension DICOMOPTReader: OCTFormatReader {
    public static var format: OCTFormat { .dicomOPT }
    public static var name: String { "DICOM" }

    /// "DICM" after the 128-byte preamble; whether the object is an OCT volume (its SOP class) is
    /// checked when it is read, so that any other DICOM object is refused by name.
    public static func recognizes(_ candidate: OCTCandidate) -> Bool {
        candidate.head.count >= 132 && candidate.head[128..<132].elementsEqual("DICM".utf8)
    }

    public static func readVolumes(path: String, transform: IntensityTransform) throws -> [OCTVolume] {
        [try read(path: path)]
    }

    public static func headerPatientID(path: String) throws -> String? {
        let loaded = try LoadedFile(path: path)
        return try headerPatientID(bytes: loaded.bytes, file: path)
    }
}
