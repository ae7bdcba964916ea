import MIMSBLAS

/// The version every mims command reports.
public enum ToolVersion {
    /// Semantic version of the mims toolkit.
    public static let current = "0.1.0"

    /// The text `--version` prints for a command: its name and version, then the BLAS line.
    public static func versionText(command: String) -> String {
        "\(command) \(current)\n\(BLASRuntime.summary)"
    }
}
