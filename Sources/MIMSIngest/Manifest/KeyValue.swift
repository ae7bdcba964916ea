import MIMSConfig

/// An ordered key/value pair of a YAML mapping (labels.map, official_split.map).
public typealias KeyValue = MIMSConfig.KeyValue
