import Foundation
import MIMSCore

/// How a record's frames were made from its source file: the reader, which B-scans were kept, the
/// intensity mapping of floating-point OCT exports, the resize and the channel count (the
/// manifest's `reader` and `normalize` section). Every shard records it (root attribute
/// `frame_recipe`, JSON) and checkpoints carry it, so that a model can be given new files made into
/// frames exactly as its training data was (`mims-train predict --files`).
public struct FrameRecipe: Equatable, Sendable {
    public var kind: DatasetKind
    /// The manifest's reader name (`auto`, `png`, `spectralis-vol`, ...).
    public var reader: String
    /// [height, width] every frame was resized to; nil when frames kept their source size.
    public var size: [Int]?
    public var channels: Int
    /// `slices: {central: N}`; nil for all slices.
    public var centralSlices: Int?
    /// `fourth-root` or `log`.
    public var intensity: String
    public var minFrames: Int?

    public init(kind: DatasetKind, reader: String, size: [Int]?, channels: Int, centralSlices: Int?, intensity: String, minFrames: Int?) {
        self.kind = kind
        self.reader = reader
        self.size = size
        self.channels = channels
        self.centralSlices = centralSlices
        self.intensity = intensity
        self.minFrames = minFrames
    }

    /// One line of JSON with sorted keys; absent values are `null`.
    public var json: String {
        func number(_ value: Int?) -> String { value.map(String.init) ?? "null" }
        return JSONText.object([
            "kind": JSONText.string(kind.rawValue), "reader": JSONText.string(reader),
            "size": size.map { "[" + $0.map(String.init).joined(separator: ", ") + "]" } ?? "null",
            "channels": String(channels), "central_slices": number(centralSlices),
            "intensity": JSONText.string(intensity), "min_frames": number(minFrames),
        ])
    }

    /// Parses ``json``; nil for text that is not a recipe.
    public init?(json text: String) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any],
              let kind = (object["kind"] as? String).flatMap(DatasetKind.init(rawValue:)),
              let reader = object["reader"] as? String, let channels = (object["channels"] as? NSNumber)?.intValue,
              let intensity = object["intensity"] as? String else { return nil }
        let size = (object["size"] as? [NSNumber])?.map(\.intValue)
        if let size, size.count != 2 { return nil }
        self.init(kind: kind, reader: reader, size: size, channels: channels,
                  centralSlices: (object["central_slices"] as? NSNumber)?.intValue, intensity: intensity,
                  minFrames: (object["min_frames"] as? NSNumber)?.intValue)
    }

    /// In words, for messages: `volume3d, reader auto, 30 central slices, 224x224, 3 channels, fourth-root`.
    public var description: String {
        var parts = [kind.rawValue, "reader \(reader)"]
        if kind == .volume3d { parts.append(centralSlices.map { "\($0) central slices" } ?? "all slices") }
        parts.append(size.map { "\($0[0])x\($0[1])" } ?? "source size")
        parts.append("\(channels) channel\(channels == 1 ? "" : "s")")
        if kind == .volume3d { parts.append(intensity) }
        return parts.joined(separator: ", ")
    }
}
