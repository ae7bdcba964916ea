import MIMSConfig

/// A manifest error is a configuration error: file, line, key and what was expected.
public typealias ManifestError = ConfigError
/// An ordered key/value pair of a YAML mapping (labels.map, official_split.map).
public typealias KeyValue = MIMSConfig.KeyValue
