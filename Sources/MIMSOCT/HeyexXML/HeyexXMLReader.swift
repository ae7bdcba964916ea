import Foundation
import MIMSCore
import MIMSImage

/// Reads Heidelberg Heyex XML export folders: one `.xml` file (parsed by libxml2, see
/// ``MarkupTree``) and the PNG/TIFF/JPEG images it names. Exactly the images the XML lists are
/// read: `OCT` images are the B-scans in document order, the first `LOCALIZER` is the fundus
/// frame; other files in the folder are ignored.
///
/// Where eyepy guesses, this reader checks: a missing or unknown laterality stays unknown (eyepy
/// reads anything but `R` as OS), `NumImages` that disagrees with the images listed is a warning,
/// every B-scan must exist and have the size the XML declares, and the spacing between B-scans is
/// computed from their start and end points as eyepy does (the XML records none).
public enum HeyexXMLReader {
    /// The most uint8 bytes a volume may decode to, checked before anything is allocated.
    public static let maxVolumeBytes = 1 << 31

    /// The export's XML file: `path` itself, or the one `.xml` file in the folder `path`.
    public static func xmlFile(for path: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw OCTError.unreadable(file: path, reason: "no such file or folder")
        }
        guard isDirectory.boolValue else { return path }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else {
            throw OCTError.unreadable(file: path, reason: "not a readable folder")
        }
        let xmls = names.filter { !$0.hasPrefix(".") && $0.lowercased().hasSuffix(".xml") }.sorted()
        guard xmls.count == 1 else {
            throw OCTError.unrecognized(file: path, reason: xmls.isEmpty ? "the folder holds no .xml file"
                : "the folder holds \(xmls.count) .xml files (\(xmls.prefix(4).joined(separator: ", "))); a Heyex export folder has one")
        }
        return path + "/" + xmls[0]
    }

    /// The XML's description of the export, without decoding any image.
    public static func export(path: String) throws -> HeyexXMLExport {
        let file = try xmlFile(for: path)
        let loaded = try LoadedFile(path: file)
        let root = try MarkupTree.parse(loaded.bytes, file: file)
        return try HeyexXMLExport.parse(root, file: file)
    }

    /// Everything but the pixels: what `inspect`, `patient: header` and manifest filters need.
    public static func headerMetadata(path: String) throws -> OCTMetadata {
        metadata(of: try export(path: path))
    }

    /// The files an export consists of: the XML, then every image it lists, in document order.
    /// The record's source digest covers all of them.
    public static func sourceFiles(path: String) throws -> [String] {
        let description = try export(path: path)
        let folder = FolderIndex(xml: description.file)
        let read = description.images.filter { $0.kind == .bscan || $0.kind == .localizer }
        return [description.file] + (try read.map { try folder.path(of: $0, in: description) })
    }

    public static func read(path: String) throws -> OCTVolume {
        let description = try export(path: path)
        var metadata = metadata(of: description)
        let file = description.file
        let folder = FolderIndex(xml: file)
        let bscans = description.bscans
        if let w = bscans[0].width, let h = bscans[0].height, bscans.count * w * h > maxVolumeBytes {
            throw OCTError.invalidField(file: file, field: "B-scan size", offset: bscans[0].line, value: "\(bscans.count) x \(w) x \(h)",
                                       reason: "the volume would exceed \(maxVolumeBytes) bytes")
        }
        var pixels: [UInt8] = []
        var size: (width: Int, height: Int)? = nil
        for (index, image) in bscans.enumerated() {
            let frame = try decode(image, index: index, in: description, folder: folder)
            if let size, frame.width != size.width || frame.height != size.height {
                throw OCTError.markup(file: file, line: image.line, element: "Image",
                                      reason: "B-scan \(index) (\(image.fileName)) is \(frame.width)x\(frame.height), B-scan 0 \(size.width)x\(size.height)")
            }
            if size == nil {
                size = (frame.width, frame.height)
                guard bscans.count * frame.width * frame.height <= maxVolumeBytes else {
                    throw OCTError.invalidField(file: file, field: "B-scan size", offset: image.line, value: "\(bscans.count) x \(frame.width) x \(frame.height)",
                                               reason: "the volume would exceed \(maxVolumeBytes) bytes")
                }
                pixels.reserveCapacity(bscans.count * frame.width * frame.height)
            }
            pixels += frame.pixels
        }
        let (width, height) = size!
        for (index, image) in bscans.enumerated() {
            for line in image.layers where line.depths.count != width {
                throw OCTError.markup(file: file, line: image.line, element: "SegLine",
                                      reason: "B-scan \(index): layer \(line.name) has \(line.depths.count) values for \(width) A-scans")
            }
        }
        if let localizer = description.images.first(where: { $0.kind == .localizer }) {
            metadata.fundus = try decode(localizer, index: nil, in: description, folder: folder)
        }
        if let low = pixels.min(), let high = pixels.max() { metadata.valueRange = Double(low)...Double(high) }
        return OCTVolume(width: width, height: height, frameCount: bscans.count, pixels: pixels, metadata: metadata)
    }

    static func metadata(of description: HeyexXMLExport) -> OCTMetadata {
        var metadata = OCTMetadata(format: .heyexXML)
        metadata.patientID = description.patientID
        metadata.visitID = description.seriesID
        metadata.laterality = description.laterality
        metadata.scanPattern = description.scanPattern
        metadata.device = description.device
        metadata.acquired = description.acquired
        metadata.warnings = description.warnings
        let bscans = description.bscans
        if let scaleX = bscans[0].scaleX, let scaleY = bscans[0].scaleY {
            for (index, image) in bscans.enumerated() where image.scaleX != scaleX || image.scaleY != scaleY {
                metadata.warnings.append("B-scan \(index) has ScaleX/ScaleY \(image.scaleX.map { "\($0)" } ?? "none")/\(image.scaleY.map { "\($0)" } ?? "none"), B-scan 0 \(scaleX)/\(scaleY); B-scan 0's are the volume's")
                break
            }
            metadata.spacing = VoxelSpacing(depth: scaleY, width: scaleX, betweenFrames: betweenFrames(bscans, warnings: &metadata.warnings))
        } else {
            metadata.warnings.append("the first B-scan records no ScaleX/ScaleY: spacing unknown")
        }
        if bscans.allSatisfy({ $0.start != nil && $0.end != nil }) {
            metadata.bscans = bscans.map {
                BScanGeometry(startX: $0.start!.x, startY: $0.start!.y, endX: $0.end!.x, endY: $0.end!.y, quality: Float($0.quality ?? .nan))
            }
        }
        var names: [String] = []
        for image in bscans { for line in image.layers where !names.contains(line.name) { names.append(line.name) } }
        if !names.isEmpty {
            metadata.layerNames = names
            metadata.layers = bscans.map { image in
                names.map { name in
                    image.layers.first { $0.name == name }?.depths ?? [Float](repeating: .nan, count: image.width ?? image.layers.first?.depths.count ?? 0)
                }
            }
        }
        return metadata
    }

    /// Mean distance between consecutive B-scans' start points and end points (eyepy's
    /// `get_bscan_spacing`); 0 for one B-scan, NaN with a warning when positions are missing.
    static func betweenFrames(_ bscans: [HeyexXMLExport.Image], warnings: inout [String]) -> Double {
        guard bscans.count > 1 else { return 0 }
        guard bscans.allSatisfy({ $0.start != nil && $0.end != nil }) else {
            warnings.append("some B-scans record no Start/End coordinates: spacing between B-scans unknown")
            return .nan
        }
        var distances: [Double] = []
        for i in 0..<bscans.count - 1 {
            let (a, b) = (bscans[i].start!, bscans[i + 1].start!)
            distances.append(((a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y)).squareRoot())
        }
        for i in 0..<bscans.count - 1 {
            let (a, b) = (bscans[i].end!, bscans[i + 1].end!)
            distances.append(((a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y)).squareRoot())
        }
        let mean = distances.reduce(0, +) / Double(distances.count)
        if let first = distances.first, distances.contains(where: { abs($0 - first) > 0.04 * abs(first) + 1e-9 }) {
            warnings.append("B-scans are not equally spaced (distances \(String(format: "%.5f", distances.min()!))...\(String(format: "%.5f", distances.max()!)) mm); spacing is their mean")
        }
        return mean
    }

    static func decode(_ image: HeyexXMLExport.Image, index: Int?, in description: HeyexXMLExport, folder: FolderIndex) throws -> Frame {
        let what = index.map { "B-scan \($0)" } ?? "the localizer"
        let path = try folder.path(of: image, in: description)
        let frame: Frame
        do {
            frame = try ImageDecoder.decode(path: path).frame(channels: 1)
        } catch {
            throw OCTError.markup(file: description.file, line: image.line, element: "Image",
                                  reason: "\(what) (\(image.fileName)): \(ReadableError.describe(error))")
        }
        if let w = image.width, let h = image.height, w != frame.width || h != frame.height {
            throw OCTError.markup(file: description.file, line: image.line, element: "Image",
                                  reason: "\(what) (\(image.fileName)) is \(frame.width)x\(frame.height) pixels, the XML says \(w)x\(h)")
        }
        return frame
    }

    /// The export folder's files, for finding the images the XML names: exactly, else ignoring
    /// case (exports copied off Windows shares change case), never outside the folder.
    struct FolderIndex {
        let folder: String
        let names: [String]

        init(xml: String) {
            let parent = (xml as NSString).deletingLastPathComponent
            folder = parent.isEmpty ? "." : parent
            names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        }

        func path(of image: HeyexXMLExport.Image, in description: HeyexXMLExport) throws -> String {
            if names.contains(image.fileName) { return folder + "/" + image.fileName }
            let matches = names.filter { $0.lowercased() == image.fileName.lowercased() }
            if matches.count == 1 { return folder + "/" + matches[0] }
            throw OCTError.markup(file: description.file, line: image.urlLine, element: "ExamURL",
                                  reason: matches.isEmpty ? "names \(image.fileName), which is not in the export folder \(folder)"
                                      : "names \(image.fileName), which matches \(matches.count) files ignoring case")
        }
    }
}
