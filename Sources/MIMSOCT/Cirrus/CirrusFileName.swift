/// What a Zeiss Cirrus export's file name says:
/// `<PID>_<Protocol> <A>x<B>_<M-D-YYYY>_<H-M-S>_<OD|OS>_sn<N>_<cube|hidef>_<z|raw>.img`.
/// Patient ids may themselves contain `_`, so the name is parsed from the right.
public struct CirrusFileName: Equatable, Sendable {
    public var patientID: String
    /// e.g. "Macular Cube"
    public var protocolName: String
    /// A-scans per B-scan.
    public var ascans: Int
    /// B-scans.
    public var bscans: Int
    /// ISO date and time, e.g. "2017-07-25T11:22:33"
    public var acquired: String
    public var laterality: Laterality
    public var serialNumber: String
    /// "cube" or "hidef"
    public var kind: String
    /// "z" or "raw"
    public var variant: String

    public init?(_ fileName: String) {
        guard fileName.lowercased().hasSuffix(".img") else { return nil }
        var parts = fileName.dropLast(4).split(separator: "_", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 8 else { return nil }
        variant = parts.removeLast()
        kind = parts.removeLast()
        let serial = parts.removeLast()
        let eye = parts.removeLast()
        let time = parts.removeLast().split(separator: "-").compactMap { Int($0) }
        let date = parts.removeLast().split(separator: "-").compactMap { Int($0) }
        let protocolAndSize = parts.removeLast()
        guard ["z", "raw"].contains(variant), ["cube", "hidef"].contains(kind), serial.hasPrefix("sn"),
              let laterality = Laterality(rawValue: eye), time.count == 3, date.count == 3,
              let space = protocolAndSize.lastIndex(of: " ") else { return nil }
        let size = protocolAndSize[protocolAndSize.index(after: space)...].split(separator: "x")
        guard size.count == 2, let a = Int(size[0]), let b = Int(size[1]), a > 0, b > 0 else { return nil }
        patientID = parts.joined(separator: "_")
        protocolName = String(protocolAndSize[..<space])
        ascans = a
        bscans = b
        self.laterality = laterality
        serialNumber = String(serial.dropFirst(2))
        let (month, day, year) = (date[0], date[1], date[2])
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        acquired = "\(year)-\(two(month))-\(two(day))T\(two(time[0])):\(two(time[1])):\(two(time[2]))"
        guard !patientID.isEmpty else { return nil }
    }

    /// A name in this layout, as the writer of test and demo volumes produces it.
    public static func make(patientID: String, protocolName: String = "Macular Cube", ascans: Int, bscans: Int,
                            laterality: Laterality, date: (month: Int, day: Int, year: Int) = (7, 25, 2017),
                            time: (Int, Int, Int) = (11, 22, 33), serial: String = "4000", kind: String = "cube",
                            variant: String = "z") -> String {
        "\(patientID)_\(protocolName) \(ascans)x\(bscans)_\(date.month)-\(date.day)-\(date.year)_\(time.0)-\(time.1)-\(time.2)_\(laterality.rawValue)_sn\(serial)_\(kind)_\(variant).img"
    }
}
