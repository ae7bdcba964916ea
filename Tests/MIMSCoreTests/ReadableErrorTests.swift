import Foundation
import MIMSCore
import MIMSTestSupport
import Testing

/// No command prints a raw Foundation error: users see the file and the reason.
struct ReadableErrorTests {
    @Test func foundationErrorsBecomePathAndReason() throws {
        let dir = try TemporaryDirectory()
        do {
            _ = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/missing")
            Issue.record("listing a missing folder succeeded")
        } catch {
            let text = ReadableError.describe(error)
            #expect(text == dir.path + "/missing: no such file or directory", "\(text)")
            #expect("\(error)".contains("Domain"))  // what a user used to see
        }
    }
}
