import Foundation
@_exported import MIMSCore

/// A fresh temporary folder per test, removed when the test's scope ends.
public final class TemporaryDirectory {
    public let path: String
    public init() throws {
        path = NSTemporaryDirectory() + "/mims-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Deterministic pseudo-random numbers for tests (SplitMix64 from MIMSCore).
public typealias TestRandom = SplitMix64

extension SplitMix64 {
    public init(state: UInt64) { self.init(seed: state) }
}

/// Runs a command and returns its standard output; throws when it exits non-zero.
public func run(_ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    if process.terminationStatus != 0 {
        throw NSError(domain: "run", code: Int(process.terminationStatus),
                      userInfo: [NSLocalizedDescriptionKey: String(decoding: errData, as: UTF8.self)])
    }
    return String(decoding: data, as: UTF8.self)
}

/// The repository's root, found from this file's path.
public let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// Decodes an image file with Pillow (an independent decoder) and returns its samples after
/// `convert(mode)`, e.g. "RGB" or "L".
public func pillowPixels(_ path: String, mode: String) throws -> [UInt8] {
    let script = "import sys,numpy as np;from PIL import Image;sys.stdout.buffer.write(np.asarray(Image.open(sys.argv[1]).convert(sys.argv[2])).tobytes())"
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script, path, mode]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw NSError(domain: "pillow", code: Int(process.terminationStatus),
                      userInfo: [NSLocalizedDescriptionKey: "Pillow could not decode \(path)"])
    }
    return [UInt8](data)
}

/// Starts a built product of this package (found beside the test binary) with its output discarded.
public func startProduct(_ name: String, _ arguments: [String], environment extra: [String: String] = [:]) throws -> Process {
    let process = Process()
    process.executableURL = productURL(name)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
}

/// Runs a built product of this package to its end: its exit status and its standard output and
/// error, interleaved as a terminal would show them.
public func runProduct(_ name: String, _ arguments: [String], environment extra: [String: String] = [:]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = productURL(name)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Where `swift build --build-tests` put the product `name`.
public func productURL(_ name: String) -> URL {
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name)
}
