import Foundation

/// python/mims_torch as the tests run it, for the Python-side unit tests (MIMSTrainTests) and the
/// comparisons with the commands (EndToEndTests).
public enum MimsTorch {
    public static let pythonPath = repositoryRoot + "/python"

    /// Runs `python3 args` with python/ on PYTHONPATH (and `environment` added): the exit status,
    /// standard output and error.
    public static func python(_ arguments: [String], environment extra: [String: String] = [:]) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment.merge(extra) { _, new in new }
        environment["PYTHONPATH"] = pythonPath + (environment["PYTHONPATH"].map { ":" + $0 } ?? "")
        process.environment = environment
        // Standard error goes to a file, so that neither stream can fill its pipe and stall the child.
        let errors = try TemporaryDirectory()
        let errorPath = errors.path + "/stderr"
        guard FileManager.default.createFile(atPath: errorPath, contents: nil) else { throw PythonError(description: "cannot create \(errorPath)") }
        let errorFile = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
        let out = Pipe()
        process.standardOutput = out
        process.standardError = errorFile
        try process.run()
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try errorFile.close()
        let error = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
        return (process.terminationStatus, output, error)
    }

    public struct PythonError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Throws, naming what to install, when the Python side cannot run: the test then fails.
    public static func requireTorch() throws {
        let probe = try python(["-c", "import torch, safetensors, yaml, h5py, numpy"])
        guard probe.status == 0 else {
            throw PythonError(description: "mims_torch needs torch, safetensors, PyYAML and h5py for python3: "
                                + "pip install torch safetensors pyyaml (make py-deps installs them). python3 said: \(probe.error)")
        }
    }

    /// Relative L2 distance of two tensors, over the first's norm (absolute when that is zero).
    public static func relative(_ a: [Float], _ b: [Float]) -> Double {
        var difference = 0.0, norm = 0.0
        for (x, y) in zip(a, b) {
            difference += Double(x - y) * Double(x - y)
            norm += Double(x) * Double(x)
        }
        return norm > 0 ? (difference / norm).squareRoot() : difference.squareRoot()
    }
}
