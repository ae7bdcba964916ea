import Foundation

/// The text a user sees for an error. Foundation's file errors print as a dump of domain, code
/// and user info (`Error Domain=NSCocoaErrorDomain Code=260 ...`); they become "path: reason"
/// here, the reason taken from the underlying POSIX error where there is one. Every other error
/// (the project's typed errors) keeps its own description.
public enum ReadableError {
    public static func describe(_ error: Error) -> String {
        let bridged = error as NSError
        guard [NSCocoaErrorDomain, NSPOSIXErrorDomain].contains(bridged.domain) else { return "\(error)" }
        let path = bridged.userInfo[NSFilePathErrorKey] as? String ?? (bridged.userInfo[NSURLErrorKey] as? URL)?.path
        var reason = bridged.localizedDescription.replacingOccurrences(of: "The operation could not be completed. ", with: "")
        if bridged.domain == NSCocoaErrorDomain {
            switch CocoaError.Code(rawValue: bridged.code) {
            case .fileNoSuchFile, .fileReadNoSuchFile: reason = "no such file or directory"
            case .fileReadNoPermission, .fileWriteNoPermission: reason = "permission denied"
            case .fileWriteFileExists: reason = "already exists"
            case .fileWriteOutOfSpace: reason = "no space left on the device"
            case .propertyListReadCorrupt: reason = "not valid JSON"
            default: break
            }
        }
        if bridged.domain == NSCocoaErrorDomain, reason.hasPrefix("The"),
           let underlying = bridged.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            reason = String(cString: strerror(Int32(underlying.code))).lowercased()
        } else if bridged.domain == NSPOSIXErrorDomain {
            reason = String(cString: strerror(Int32(bridged.code))).lowercased()
        }
        return (path.map { $0 + ": " } ?? "") + reason
    }
}
