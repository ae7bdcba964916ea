import Foundation
import MIMSTestSupport
import Testing

/// The golden cases are what PyTorch computes: Tests/Fixtures/golden/make_golden.py recomputes
/// every committed file in float64 from its stored inputs. The other golden tests only show that
/// the engine agrees with the files; this one shows the files still agree with their definition.
struct GoldenRegenerationTests {
    static let folder = repositoryRoot + "/Tests/Fixtures/golden"
    static let script = folder + "/make_golden.py"

    /// What --check must count: every case file and every JSON file of the folder.
    static func expectedCount(in folder: String) throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".safetensors") || $0.hasSuffix(".json") }.count
    }

    /// `run` throws on exit status 1 with the script's stderr, which names the differing cases.
    func expectAllChecked(_ output: String, count: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        let lines = output.split(separator: "\n").map(String.init)
        // Nothing is skipped today: every op, AUROC and the ResNet shapes have a PyTorch function.
        let skipped = lines.filter { $0.hasPrefix("SKIPPED") }, mismatched = lines.filter { $0.hasPrefix("MISMATCH") }
        #expect(skipped.isEmpty, "\(skipped)", sourceLocation: sourceLocation)
        #expect(mismatched.isEmpty, "\(mismatched)", sourceLocation: sourceLocation)
        #expect(lines.last == "ok \(count) cases", "\(lines.suffix(3))", sourceLocation: sourceLocation)
    }

    @Test func committedCasesAreWhatPyTorchComputes() throws {
        let count = try Self.expectedCount(in: Self.folder)
        #expect(count >= 36)
        expectAllChecked(try run(["python3", Self.script, "--check"]), count: count)
    }

    /// --write shares --check's functions, so a fresh suite must pass, with the committed suite's
    /// files: regenerating or extending the cases starts from a script that works.
    @Test func writtenSuiteChecks() throws {
        let dir = try TemporaryDirectory()
        _ = try run(["python3", Self.script, "--write", dir.path, "--seed", "3"])
        let written = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        let committed = try FileManager.default.contentsOfDirectory(atPath: Self.folder).filter { $0.hasSuffix(".safetensors") || $0.hasSuffix(".json") }.sorted()
        #expect(written == committed)
        expectAllChecked(try run(["python3", Self.script, "--check", dir.path]), count: written.count)
    }
}
