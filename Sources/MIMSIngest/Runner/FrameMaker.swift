import Foundation
import MIMSCore
import MIMSImage
import MIMSOCT
import MIMSShards

/// Makes one source file (or slice/export folder) into frames exactly as `mims-ingest run` made
/// the records of a shard set, from the ``FrameRecipe`` the shards (and a checkpoint trained on
/// them) recorded: the same reader, slice selection, intensity mapping, resize and channels. This
/// is what lets `mims-train predict --files` score new exports without making shards first.
public struct FrameMaker: Sendable {
    public let recipe: FrameRecipe
    let reader: ReaderChoice
    let normalize: Normalization

    /// A file made into frames: `frameCount` frames of `frameShape`, concatenated.
    public struct Made: Sendable {
        public var pixels: [UInt8]
        public var frameCount: Int
        public var frameShape: FrameShape
        /// The reader's warnings about the file (nothing refused, but worth knowing).
        public var warnings: [String]
    }

    /// Why a file could not be made into frames, or why a recipe cannot be followed.
    public enum Failure: Error, CustomStringConvertible, Equatable {
        case recipe(reason: String)
        case file(path: String, reason: String)
        /// A reader's or decoder's own error, which names the file itself.
        case unreadable(message: String)

        public var description: String {
            switch self {
            case let .recipe(reason): "the checkpoint's frame recipe cannot be followed: \(reason)"
            case let .file(path, reason): "\(path): \(reason)"
            case let .unreadable(message): message
            }
        }
    }

    public init(recipe: FrameRecipe) throws {
        guard let reader = ReaderChoice(rawValue: recipe.reader) else {
            throw Failure.recipe(reason: "reader '\(recipe.reader)' is not one this version knows (\(ReaderChoice.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard let intensity = IntensityTransform(rawValue: recipe.intensity) else {
            throw Failure.recipe(reason: "intensity '\(recipe.intensity)' is not fourth-root or log")
        }
        guard recipe.channels == 1 || recipe.channels == 3 else { throw Failure.recipe(reason: "\(recipe.channels) channels (1 or 3 expected)") }
        self.recipe = recipe
        self.reader = reader
        normalize = Normalization(size: recipe.size.map { ($0[0], $0[1]) }, channels: recipe.channels,
                                  slices: recipe.centralSlices.map(SliceSelection.central) ?? .all,
                                  intensity: intensity, minFrames: recipe.minFrames)
    }

    /// The frames of the file or folder at `path`. Without a recorded resize the frames keep the
    /// file's own size (all of its frames must share it), as ingest kept its records'.
    public func make(path: String) throws -> Made {
        do {
            let decoded = RecordProcessor.selectSlices(try RecordProcessor.read(path: path, kind: recipe.kind, reader: reader, intensity: normalize.intensity),
                                                       normalize.slices)
            try normalize.requireMinFrames(decoded.originalShape[0], requiredBy: "the model's training data")
            guard let first = decoded.frames.first else { throw IngestRejection("holds no frames") }
            let shape = recipe.size.map { FrameShape(height: $0[0], width: $0[1], channels: recipe.channels) }
                ?? FrameShape(height: first.height, width: first.width, channels: recipe.channels)
            let pixels = try RecordProcessor.resizeAndConvert(decoded.frames, frameShape: shape, resizes: recipe.size != nil)
            return Made(pixels: pixels, frameCount: decoded.frames.count, frameShape: shape, warnings: decoded.warnings)
        } catch let rejection as IngestRejection {
            throw Failure.file(path: path, reason: rejection.reason)
        } catch let failure as Failure {
            throw failure
        } catch {
            let message = ReadableError.describe(error)
            throw message.contains(path) ? Failure.unreadable(message: message) : Failure.file(path: path, reason: message)
        }
    }

    /// The records `paths` name, and notes on files of folders that were left out. A file is
    /// one record. A folder, for 2D data, stands for every image below it (PNG, JPEG, TIFF, in
    /// path order); for volumes it is one record when the reader takes folders (a slice folder),
    /// else it stands for every file below it that is an export the reader recognises.
    public func expand(_ paths: [String]) throws -> (records: [String], notes: [String]) {
        var records: [String] = [], notes: [String] = []
        for path in paths {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                throw Failure.file(path: path, reason: "no such file or folder")
            }
            guard isFolder.boolValue else { records.append(path); continue }
            if recipe.kind == .volume3d, reader == .volume(.sliceFolder) || (reader == .auto && OCTReader.detect(path: path) == .sliceFolder) {
                records.append(path)
                continue
            }
            let tree = SourceTreeWalker.walk(path)
            if let problem = tree.problems.first(where: { $0.kind != .loop }) { throw Failure.file(path: path + "/" + problem.relative, reason: problem.reason) }
            let folder = path.hasSuffix("/") ? path : path + "/"
            let accepted: (String) -> Bool = recipe.kind == .image2d
                ? { name in [".png", ".jpg", ".jpeg", ".tif", ".tiff"].contains { name.lowercased().hasSuffix($0) } }
                : { [reader] name in
                    guard let format = OCTReader.detect(path: folder + name) else { return false }
                    return format != .sliceFolder && (reader.volumeFormat == nil || reader.volumeFormat == format)
                }
            let names = tree.files.map(\.relative).sorted()
            let kept = names.filter(accepted)
            guard !kept.isEmpty else {
                throw Failure.file(path: path, reason: recipe.kind == .image2d ? "a folder without PNG, JPEG or TIFF images"
                                   : "a folder without a file that reader \(reader.rawValue) reads")
            }
            let left = names.filter { !accepted($0) }
            if !left.isEmpty {
                notes.append("\(path): \(left.count) file(s) are not \(recipe.kind == .image2d ? "images" : "exports reader \(reader.rawValue) reads"), left out: "
                             + left.prefix(5).joined(separator: ", ") + (left.count > 5 ? ", ..." : ""))
            }
            records += kept.map { folder + $0 }
        }
        return (records, notes)
    }
}
