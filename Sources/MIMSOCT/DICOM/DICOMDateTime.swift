/// DICOM DA, TM and DT values as ISO 8601 text. DICOM times are the site's local time unless the
/// value carries an offset; they are given as recorded (an offset, when present, is kept as
/// `+hh:mm`), not shifted to UTC.
enum DICOMDateTime {
    /// "YYYYMMDD" and an optional "HHMMSS.ffffff" (minutes and seconds optional) as
    /// "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS"; nil when the date is not one.
    static func iso8601(date: String, time: String?) -> String? {
        guard let day = isoDate(date) else { return nil }
        guard let time, let clock = isoTime(time) else { return day }
        return day + "T" + clock
    }

    /// A DT value "YYYYMMDDHHMMSS.ffffff&ZZXX" (parts after the date optional).
    static func iso8601(dateTime: String) -> String? {
        var text = Substring(dateTime)
        var offset = ""
        if let sign = text.lastIndex(where: { $0 == "+" || $0 == "-" }) {
            let zone = text[text.index(after: sign)...]
            guard zone.count == 4, zone.allSatisfy(\.isASCIIDigit) else { return nil }
            offset = String(text[sign]) + zone.prefix(2) + ":" + zone.suffix(2)
            text = text[..<sign]
        }
        guard text.count >= 8, let day = isoDate(String(text.prefix(8))) else { return nil }
        let rest = text.dropFirst(8)
        if rest.isEmpty { return day }
        guard let clock = isoTime(String(rest)) else { return nil }
        return day + "T" + clock + offset
    }

    private static func isoDate(_ text: String) -> String? {
        let digits = Array(text)
        guard digits.count == 8, digits.allSatisfy(\.isASCIIDigit) else { return nil }
        let month = Int(String(digits[4...5]))!, day = Int(String(digits[6...7]))!
        guard (1...12).contains(month), (1...31).contains(day) else { return nil }
        return String(digits[0...3]) + "-" + String(digits[4...5]) + "-" + String(digits[6...7])
    }

    private static func isoTime(_ text: String) -> String? {
        let whole = Array(text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        guard [2, 4, 6].contains(whole.count), whole.allSatisfy(\.isASCIIDigit) else { return nil }
        let parts = stride(from: 0, to: 6, by: 2).map { $0 < whole.count ? String(whole[$0...$0 + 1]) : "00" }
        guard Int(parts[0])! < 24, Int(parts[1])! < 60, Int(parts[2])! < 61 else { return nil }
        return parts.joined(separator: ":")
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
