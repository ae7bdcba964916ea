/// An ordered key/value pair from a YAML mapping.
public struct KeyValue: Equatable, Sendable {
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }

    public var key: String
    public var value: String
}
