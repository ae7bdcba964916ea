import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A request to stop training, set by SIGINT (Ctrl-C) or SIGTERM and checked by the trainer
/// between iterations, so a run stops with a checkpoint on disk and no `.part` file. A second
/// signal stops at once, after removing the `.part` files of the folders being written.
public final class StopRequest: @unchecked Sendable {
    private let lock = NSLock()
    private var received: Int32?
    private var folders: [String] = []
    private var sources: [DispatchSourceSignal] = []

    public init() {}

    /// The signal that asked to stop, or nil.
    public var signal: Int32? { lock.withLock { received } }

    /// Records `signal`; true when it is the first request.
    @discardableResult
    public func request(_ signal: Int32) -> Bool {
        lock.withLock {
            guard received == nil else { return false }
            received = signal
            return true
        }
    }

    /// A folder whose `.part` files a second signal removes.
    public func watch(_ folder: String) { lock.withLock { folders.append(folder) } }

    /// Handles SIGINT and SIGTERM from now on (on a dispatch queue, not in signal context, so
    /// printing and file removal are safe).
    public func installHandlers(log: @escaping @Sendable (String) -> Void) {
        for number in [SIGINT, SIGTERM] {
            // Ignored as a signal, seen by the dispatch source: the default action would end the process.
            #if canImport(Glibc)
            Glibc.signal(number, SIG_IGN)
            #elseif canImport(Darwin)
            Darwin.signal(number, SIG_IGN)
            #endif
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                if request(number) {
                    log("\n\(number == SIGINT ? "Ctrl-C" : "SIGTERM"): stopping after this iteration with a checkpoint (send it again to stop at once)")
                } else {
                    for folder in lock.withLock({ folders }) { Self.removePartFiles(in: folder) }
                    log("stopped at once; the last checkpoint on disk is whole (resume with --resume)")
                    exit(128 + number)
                }
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Removes the unfinished `*.part` files directly in `folder`.
    public static func removePartFiles(in folder: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where name.hasSuffix(".part") {
            try? FileManager.default.removeItem(atPath: folder + "/" + name)
        }
    }
}

/// Thrown by ``Trainer/run()`` when a ``StopRequest`` stopped the run between iterations.
public struct TrainingStopped: Error, CustomStringConvertible {
    public var signal: Int32
    /// Iterations completed.
    public var iteration: Int
    public var iterations: Int
    /// The checkpoint on disk and its iteration (nil before the first one).
    public var checkpoint: String
    public var checkpointIteration: Int?

    public init(signal: Int32, iteration: Int, iterations: Int, checkpoint: String, checkpointIteration: Int?) {
        self.signal = signal
        self.iteration = iteration
        self.iterations = iterations
        self.checkpoint = checkpoint
        self.checkpointIteration = checkpointIteration
    }

    public var description: String {
        let saved = checkpointIteration.map { "last checkpoint: \(checkpoint) (iteration \($0))" } ?? "no checkpoint yet (a resume starts over)"
        return "stopped at iteration \(iteration) of \(iterations); \(saved)"
    }
}
