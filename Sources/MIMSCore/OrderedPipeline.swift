import Dispatch
import Foundation

/// Transforms items on worker threads and hands the results to the calling thread in item order,
/// with at most `window` results waiting: decoding runs on every core while one writer consumes,
/// and memory stays bounded whatever the number of items.
public enum OrderedPipeline {
    public static func run<T: Sendable, R: Sendable>(
        _ items: [T], workers: Int, window: Int,
        transform: @escaping @Sendable (T) -> R,
        consume: (Int, R) throws -> Void
    ) throws {
        if items.isEmpty { return }
        let state = PipelineState<R>(count: items.count, window: max(1, window))
        let group = DispatchGroup()
        for _ in 0..<max(1, min(workers, items.count)) {
            DispatchQueue.global().async(group: group) {
                while let index = state.claim() {
                    state.deliver(index, transform(items[index]))
                }
            }
        }
        do {
            for index in 0..<items.count {
                try consume(index, state.take(index))
            }
        } catch {
            state.stop()
            group.wait()
            throw error
        }
        group.wait()
    }
}

private final class PipelineState<R>: @unchecked Sendable {
    private let condition = NSCondition()
    private let count: Int
    private let window: Int
    private var next = 0
    private var consumed = 0
    private var stopped = false
    private var results: [Int: R] = [:]

    init(count: Int, window: Int) {
        self.count = count
        self.window = window
    }

    /// The next index to work on, or nil when there is none (or the run stopped).
    func claim() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while !stopped && next < count && next - consumed >= window { condition.wait() }
        guard !stopped && next < count else { return nil }
        next += 1
        return next - 1
    }

    func deliver(_ index: Int, _ result: R) {
        condition.lock()
        results[index] = result
        condition.broadcast()
        condition.unlock()
    }

    func take(_ index: Int) -> R {
        condition.lock()
        defer { condition.unlock() }
        while results[index] == nil { condition.wait() }
        consumed = index + 1
        condition.broadcast()
        return results.removeValue(forKey: index)!
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}
