#if canImport(Glibc)
import Glibc
#endif

/// ISO 8601 UTC timestamps for shard headers.
public enum UTCTimestamp {
    /// Now, or `SOURCE_DATE_EPOCH` when set (the reproducible-builds convention), so that the same
    /// inputs can give byte-identical shards.
    public static func now() -> String {
        var seconds = time(nil)
        if let epoch = getenv("SOURCE_DATE_EPOCH"), let value = Int(String(cString: epoch)) {
            seconds = time_t(value)
        }
        return format(seconds)
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`
    public static func format(_ seconds: time_t) -> String {
        var copy = seconds
        var parts = tm()
        gmtime_r(&copy, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%SZ", &parts)
        return String(cString: buffer)
    }
}
