extension CirrusImgReader: OCTFormatReader {
    public static var format: OCTFormat { .cirrusImg }
    public static var name: String { "Cirrus .img" }
    public static var recognizedByContent: Bool { false }

    /// By the export's file name, or an `.img` of a known cube size.
    public static func recognizes(_ candidate: OCTCandidate) -> Bool {
        guard !candidate.isFolder else { return false }
        if CirrusFileName(candidate.name) != nil { return true }
        return candidate.name.lowercased().hasSuffix(".img") && knownSizes[candidate.size] != nil
    }

    /// Cirrus cubes are uint8 already: no intensity transform applies.
    public static func readVolumes(path: String, transform: IntensityTransform) throws -> [OCTVolume] {
        [try read(path: path)]
    }

    /// The `<PID>_` part of the export's file name.
    public static func headerPatientID(path: String) throws -> String? {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return CirrusFileName(name).map(\.patientID).flatMap { $0.isEmpty ? nil : $0 }
    }
}
