extension OCTReader {
    /// The record metadata the export records (laterality, patient, date, spacing, scan pattern,
    /// device), through the format's `headerMetadata`: from the XML alone for Heyex exports, by a
    /// full read for formats whose metadata is not separable from their pixels.
    public static func headerMetadata(path: String, as named: OCTFormat? = nil) throws -> OCTMetadata {
        guard let format = named ?? detect(path: path) else {
            throw OCTError.unrecognized(file: path, reason: "no OCT reader recognises it")
        }
        return try reader(for: format).headerMetadata(path: path)
    }
}
