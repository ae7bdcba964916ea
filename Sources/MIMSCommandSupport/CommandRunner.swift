import ArgumentParser
import Foundation
import MIMSCore

extension ParsableCommand {
    /// Parses the command line and runs the command, as `main()` does, except that a Foundation
    /// error that slipped past the commands' own checks prints as its path and reason
    /// (``ReadableError``), not as an NSError dump.
    public static func mainWithReadableErrors() -> Never {
        do {
            var command = try parseAsRoot()
            try command.run()
            exit(withError: nil)
        } catch {
            let bridged = error as NSError
            if [NSCocoaErrorDomain, NSPOSIXErrorDomain].contains(bridged.domain) {
                FileHandle.standardError.write(Data("Error: \(ReadableError.describe(error))\n".utf8))
                Foundation.exit(1)
            }
            exit(withError: error)
        }
    }
}
