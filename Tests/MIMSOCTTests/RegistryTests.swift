import Foundation
import MIMSTestSupport
import Testing
@testable import MIMSOCT

/// The format registry: one reader per format, detection through it, reading as a named format.
struct RegistryTests {
    @Test func everyFormatHasOneReader() {
        #expect(OCTReader.registry.map { $0.format }.sorted { $0.rawValue < $1.rawValue } == OCTFormat.allCases.sorted { $0.rawValue < $1.rawValue })
    }

    @Test func detectionAndReadingGoThroughTheRegistry() throws {
        let vol = octFixtures + "/line-willis-0.vol", e2e = octFixtures + "/e2e_minimized.E2E"
        #expect(OCTReader.detect(path: vol) == .spectralisVol && OCTReader.detect(path: e2e) == .heidelbergE2E)
        #expect(OCTReader.detect(path: octFixtures) == .sliceFolder)
        #expect(try OCTReader.headerPatientID(path: vol) == "01234")
        #expect(try OCTReader.read(path: vol).first?.pixels == SpectralisVolReader.read(path: vol).pixels)
        // Named as another format, the file is read as that format (and refused by its reader).
        #expect(throws: OCTError.self) { try OCTReader.read(path: vol, as: .heidelbergE2E) }
    }

    /// The list of formats an unrecognised file is told it is not, from the registry.
    @Test func unrecognizedFileNamesEveryFormat() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path + "/x.bin"
        try Data("not an export".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: OCTError.unrecognized(file: path, reason: "not a Spectralis .vol, Heidelberg .E2E, Topcon .fds/.fda, Heyex XML, TIFF stack, DICOM, slice folder or Cirrus .img export")) {
            try OCTReader.read(path: path)
        }
    }
}
