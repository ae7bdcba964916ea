import Foundation
import MIMSTestSupport
import Testing
@testable import MIMSIngest

/// The `filter:` section of a Heyex XML manifest (the command runs are in EndToEndTests).
struct HeyexIngestTests {
    static let manifest = """
    dataset: heyex
    kind: volume3d
    source:
      root: /data
      include: ["**/*.xml"]
    reader: heyex-xml
    labels:
      from: folder
      classes: [normal, DME]
      map: {normal: normal, DME: DME}
    patient: header
    filter:
      laterality: OD
      device: [Heidelberg Engineering Spectralis, Heidelberg Engineering Spectralis OCT2]
    split:
      policy: ratio
      train: 0.5
      test: 0.5
    normalize:
      size: [224, 224]
      channels: 1
    """

    @Test func filterSectionIsValidated() throws {
        let parsed = try ManifestParser.parse(Self.manifest, file: "m.yaml")
        #expect(parsed.reader == .volume(.heyexXML) && parsed.patientFromHeader)
        #expect(parsed.filter?.accepted == ["laterality": ["OD"], "device": ["Heidelberg Engineering Spectralis", "Heidelberg Engineering Spectralis OCT2"]])
        let cases: [(String, String, String)] = [
            ("  laterality: OD", "  lateraliti: OD", "m.yaml:13: 'filter.lateraliti': not a known key here; known keys: laterality, scan_pattern, device, format"),
            ("  laterality: OD", "  laterality: OU", "m.yaml:13: 'filter.laterality': OD or OS, not 'OU'"),
            ("  laterality: OD", "  format: vol", "m.yaml:13: 'filter.format': one of cirrus-img, spectralis-vol"),
            ("kind: volume3d", "kind: image2d", "m.yaml:12: 'filter': nothing: filter: selects OCT volumes"),
        ]
        for (from, to, message) in cases {
            let text = Self.manifest.replacingOccurrences(of: from, with: to)
                .replacingOccurrences(of: "patient: header\n", with: to == "kind: image2d" ? "" : "patient: header\n")
            do {
                _ = try ManifestParser.parse(text, file: "m.yaml")
                Issue.record("accepted \(to)")
            } catch {
                #expect("\(error)".hasPrefix(message), "\(error)")
            }
        }
    }
}
