import Foundation

/// Reads and transforms the next batches on a thread of its own while the model trains on the
/// current one, `depth` batches ahead, in iteration order: image batches (``BagBatch``) or, for a
/// frozen trunk, cached features (``FeatureBatch``).
public final class PrefetchingLoader<Batch: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var ready: [Int: Result<Batch, Error>] = [:]
    private let end: Int
    private let depth: Int
    private var stopped = false
    private var thread: Thread?

    /// Produces `produce(i)` for i in `range`.
    public init(range: Range<Int>, depth: Int = 3, produce: @escaping @Sendable (Int) throws -> Batch) {
        end = range.upperBound
        self.depth = depth
        // The thread holds the loader until it finishes or `stop()` ends it.
        let thread = Thread { self.run(range, produce) }
        thread.name = "mims-loader"
        self.thread = thread
        thread.start()
    }

    private func run(_ range: Range<Int>, _ produce: (Int) throws -> Batch) {
        for i in range {
            condition.lock()
            while !stopped && ready.count >= depth { condition.wait() }
            if stopped { condition.unlock(); return }
            condition.unlock()
            let result = Result { try produce(i) }
            condition.lock()
            ready[i] = result
            condition.broadcast()
            condition.unlock()
        }
    }

    /// The batch of `iteration`, waiting for it when the reader is behind.
    public func take(_ iteration: Int) throws -> Batch {
        condition.lock()
        defer { condition.unlock() }
        precondition(iteration < end, "iteration \(iteration) beyond the loader's range")
        while ready[iteration] == nil { condition.wait() }
        let result = ready.removeValue(forKey: iteration)!
        condition.broadcast()
        return try result.get()
    }

    public func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    deinit { stop() }
}
