import Foundation

/// The pointing game on synthetic data with planted lesions: a positive record scores a hit when
/// the maximum of its heatmap (over all slices, at frame resolution; the first maximum wins) falls
/// inside one of its lesion boxes on that slice.
public struct PointingGame {
    public struct Box: Sendable {
        public var frame: Int, y0: Int, x0: Int, y1: Int, x1: Int
    }

    /// Boxes by record id, from a `lesions.json` written by `mims-ingest synth`.
    public let boxes: [String: [Box]]

    public init(lesionsFile path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TrainingError.runFolder(path: path, reason: "no such file (mims-ingest synth writes lesions.json beside the synthetic source)")
        }
        guard let list = (try? JSONSerialization.jsonObject(with: data)) as? [[String: Any]] else {
            throw TrainingError.runFolder(path: path, reason: "not a lesions.json (a list of {id, frame, y0, x0, y1, x1})")
        }
        var boxes: [String: [Box]] = [:]
        for item in list {
            guard let id = item["id"] as? String, let f = item["frame"] as? Int, let y0 = item["y0"] as? Int, let x0 = item["x0"] as? Int,
                  let y1 = item["y1"] as? Int, let x1 = item["x1"] as? Int else {
                throw TrainingError.runFolder(path: path, reason: "an entry lacks one of id, frame, y0, x0, y1, x1")
            }
            boxes[id, default: []].append(Box(frame: f, y0: y0, x0: x0, y1: y1, x1: x1))
        }
        self.boxes = boxes
    }

    /// Whether the point (frame, y, x) lies in one of `id`'s boxes; nil when `id` has no boxes.
    public func hit(id: String, frame: Int, y: Int, x: Int) -> Bool? {
        guard let mine = boxes[id], !mine.isEmpty else { return nil }
        return mine.contains { $0.frame == frame && y >= $0.y0 && y < $0.y1 && x >= $0.x0 && x < $0.x1 }
    }
}
