import Foundation
import MIMSCore
import MIMSImage
import MIMSOCT
import MIMSShards

/// The paper's four datasets, synthesized in the vendors' real formats and folder layouts, with a
/// manifest ready for `mims-ingest run` and the ground truth of every planted lesion.
public enum SyntheticDataset: String, Sendable, CaseIterable {
    case cirrus
    case spectralis
    case mmd
    case crcMSI = "crc-msi"
    case heyexXML = "heyex-xml"

    /// Most label classes `--classes` can ask for (crc-msi).
    public static let maximumClasses = SyntheticHistology.clusterColours.count + 1

    /// Records written when no count is given.
    public var defaultCount: Int {
        switch self {
        case .cirrus, .spectralis, .heyexXML: 8
        case .mmd: 24
        case .crcMSI: 64
        }
    }
}

/// Writes a synthetic dataset: files, `manifest.yaml` and `lesions.json` (boxes in the
/// coordinates of the frames as they land in the shards: after the reader's flips, the slice
/// selection and the manifest's resize; rows y0..<y1, columns x0..<x1).
public struct SyntheticDatasetWriter: Sendable {
    public var dataset: SyntheticDataset
    public var count: Int
    public var seed: UInt64
    /// Smaller volumes (for tests and quick demos); file formats and layouts are unchanged.
    public var small: Bool
    /// Label classes (crc-msi only: 2 to ``SyntheticDataset/maximumClasses``; the others have 2).
    public var classes: Int

    public init(dataset: SyntheticDataset, count: Int? = nil, seed: UInt64 = 1, small: Bool = false, classes: Int = 2) {
        self.dataset = dataset
        self.count = count ?? dataset.defaultCount
        self.seed = seed
        self.small = small
        self.classes = classes
    }

    /// The class names the manifest lists: crc-msi's MSS and MSIMUT, then SUBTYPE2, SUBTYPE3, ...
    var histologyClasses: [String] { ["MSS", "MSIMUT"] + (2..<max(2, classes)).map { "SUBTYPE\($0)" } }

    public struct Summary: Sendable {
        public var files: Int
        public var positives: Int
        public var lesions: Int
    }

    /// Frame size the generated manifest normalizes to, and the central slices it keeps.
    var normalizedSize: (Int, Int)? {
        switch dataset {
        case .cirrus, .spectralis, .heyexXML: (224, 224)
        case .mmd: small ? (150, 225) : (300, 450)
        case .crcMSI: nil
        }
    }

    let centralSlices = 30

    public func write(to out: String) throws -> Summary {
        guard classes == 2 || (dataset == .crcMSI && (2...SyntheticDataset.maximumClasses).contains(classes)) else {
            throw SyntheticError.classes(dataset: dataset.rawValue, classes: classes)
        }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        var boxes: [LesionBox] = []
        var positives = 0
        switch dataset {
        case .mmd: (boxes, positives) = try writeFundus(out)
        case .crcMSI: (boxes, positives) = try writeHistology(out)
        case .cirrus: (boxes, positives) = try writeCirrus(out)
        case .spectralis: (boxes, positives) = try writeSpectralis(out)
        case .heyexXML: (boxes, positives) = try writeHeyexXML(out)
        }
        try AtomicFile.write(Data(manifest.utf8), to: out + "/manifest.yaml")
        let json = boxes.sorted { ($0.id, $0.frame, $0.y0, $0.x0) < ($1.id, $1.frame, $1.y0, $1.x0) }.map(\.json)
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) + Data("\n".utf8),
                             to: out + "/lesions.json")
        return Summary(files: count, positives: positives, lesions: boxes.count)
    }

    /// Seed of record `index`, independent of the others.
    func recordSeed(_ index: Int) -> UInt64 {
        var mixer = SplitMix64(seed: seed &* 0x5851_F42D_4C95_7F2D &+ UInt64(index))
        return mixer.next()
    }

    /// Records alternate negative, positive, so every class has about half.
    func isPositive(_ index: Int) -> Bool { index % 2 == 1 }

    // MARK: - 2D

    func writeFundus(_ out: String) throws -> ([LesionBox], Int) {
        let generator = small ? SyntheticFundus(width: 450, height: 300) : SyntheticFundus(width: 900, height: 600)
        let results = try Parallel.map(count) { index -> Result<[LesionBox], Error> in
            Result {
                let positive = isPositive(index)
                let folder = positive ? "MMD" : "healthy"
                let patient = String(format: "P%04d", index / 4 * 2 + (positive ? 1 : 0))
                let name = "\(patient)-\(index % 4 < 2 ? "OD" : "OS")"
                let id = folder + "/" + name
                let (frame, lesions) = generator.image(seed: recordSeed(index), diseased: positive, id: id)
                try FileManager.default.createDirectory(atPath: out + "/" + folder, withIntermediateDirectories: true)
                try Data(JPEGEncoder.encode(frame, quality: 92)).write(to: URL(fileURLWithPath: out + "/" + id + ".jpg"))
                return lesions.map { $0.resized(from: (generator.height, generator.width), to: normalizedSize!) }
            }
        }.map { try $0.get() }
        return (results.flatMap { $0 }, (0..<count).filter(isPositive).count)
    }

    func writeHistology(_ out: String) throws -> ([LesionBox], Int) {
        let generator = SyntheticHistology(size: 224)
        let tilesPerPatient = 4
        let results = try Parallel.map(count) { index -> Result<[LesionBox], Error> in
            Result {
                // Patients own consecutive tiles; classes take turns by patient; about a third of the
                // patients are in the official test split.
                let patient = index / tilesPerPatient
                let label = patient % classes
                // Labels cycle with the patient, so the test third must not cycle in step with them
                // (with a class count divisible by 3, patient % 3 would hold one class in test alone).
                let test = (classes % 3 == 0 ? patient / classes : patient) % 3 == 2
                let folder = "CRC_DX_\(test ? "TEST" : "TRAIN")_\(histologyClasses[label])"
                var names = SplitMix64(seed: recordSeed(index) ^ 0xABCD)
                let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
                let block = String((0..<12).map { _ in alphabet[Int(names.next() % UInt64(alphabet.count))] })
                let tcga = String(format: "TCGA-%@-%04d", ["AA", "A6", "CM", "G4"][patient % 4], 1000 + patient)
                let id = "\(folder)/blk-\(block)-\(tcga)-01Z-00-DX1"
                let tile = generator.tile(seed: recordSeed(index), label: label, id: id)
                try FileManager.default.createDirectory(atPath: out + "/" + folder, withIntermediateDirectories: true)
                let frame = Frame(width: 224, height: 224, channels: 3, pixels: tile.pixels)
                try Data(PNGEncoder.encode(frame)).write(to: URL(fileURLWithPath: out + "/" + id + ".png"))
                return tile.lesions
            }
        }.map { try $0.get() }
        return (results.flatMap { $0 }, (0..<count).filter { ($0 / tilesPerPatient) % classes != 0 }.count)
    }

    // MARK: - 3D

    /// Maps native volume boxes to shard coordinates: central-slice selection, then the resize.
    func shardBoxes(_ boxes: [LesionBox], frames: Int, depth: Int, width: Int) -> [LesionBox] {
        let keep = min(centralSlices, frames), start = (frames - keep) / 2
        return boxes.compactMap { box in
            guard box.frame >= start && box.frame < start + keep else { return nil }
            var moved = box
            moved.frame -= start
            return moved.resized(from: (depth, width), to: normalizedSize!)
        }
    }

    func writeCirrus(_ out: String) throws -> ([LesionBox], Int) {
        let (a, b, d) = small ? (128, 32, 256) : (512, 128, 1024)
        var csv = "file,diagnosis\n"
        var boxes: [LesionBox] = []
        for index in 0..<count {
            let positive = isPositive(index)
            let name = CirrusFileName.make(patientID: String(format: "SERI_%03d", index / 2), ascans: a, bscans: b,
                                           laterality: index % 2 == 0 ? .od : .os, date: (3, 1 + index % 28, 2016),
                                           time: (9, index % 60, 0), serial: "4000")
            let id = String(name.dropLast(4))
            let generated = SyntheticRetinaOCT(width: a, depth: d, frames: b).volume(seed: recordSeed(index), diseased: positive, id: id)
            let volume = OCTVolume(width: a, height: d, frameCount: b, pixels: generated.pixels, metadata: OCTMetadata(format: .cirrusImg))
            try Data(CirrusImgWriter.bytes(of: volume)).write(to: URL(fileURLWithPath: out + "/" + name))
            csv += "\(id),\(positive ? "DME" : "normal")\n"
            boxes += shardBoxes(generated.lesions, frames: b, depth: d, width: a)
        }
        try AtomicFile.write(Data(csv.utf8), to: out + "/labels.csv")
        return (boxes, (0..<count).filter(isPositive).count)
    }

    func writeSpectralis(_ out: String) throws -> ([LesionBox], Int) {
        let (x, z) = small ? (192, 124) : (768, 496)
        var boxes: [LesionBox] = []
        // Intensity u/255 stored as (u/255)^4, which the default fourth-root rule maps back to u.
        let toFloat = (0...255).map { Float(pow4(Double($0) / 255)) }
        for index in 0..<count {
            let positive = isPositive(index)
            var random = SplitMix64(seed: recordSeed(index) ^ 0x77)
            let frames = small ? 9 : 25 + Int(random.next() % 7)
            let folder = positive ? "DME" : "normal"
            let id = folder + String(format: "/S%04d_%@", index, index % 4 < 2 ? "OD" : "OS")
            let generated = SyntheticRetinaOCT(width: x, depth: z, frames: frames).volume(seed: recordSeed(index), diseased: positive, id: id)
            var writer = SpectralisVolWriter(sizeX: x, sizeZ: z, intensities: generated.pixels.map { toFloat[Int($0)] },
                                             slo: [UInt8](repeating: 96, count: 64 * 64), sizeXSlo: 64, sizeYSlo: 64)
            writer.scanPosition = index % 4 < 2 ? "OD" : "OS"
            writer.patientID = String(format: "S%04d", index)
            try FileManager.default.createDirectory(atPath: out + "/" + folder, withIntermediateDirectories: true)
            try Data(writer.bytes()).write(to: URL(fileURLWithPath: out + "/" + id + ".vol"))
            boxes += shardBoxes(generated.lesions, frames: frames, depth: z, width: x)
        }
        return (boxes, (0..<count).filter(isPositive).count)
    }

    private func pow4(_ v: Double) -> Double { v * v * v * v }

    /// Heyex XML export folders (`normal/H0003_OS/export.xml` with B1.png ... and NIR1.png), the
    /// laterality in the XML only, two layer lines per B-scan.
    func writeHeyexXML(_ out: String) throws -> ([LesionBox], Int) {
        let (x, z) = small ? (192, 124) : (512, 496)
        var boxes: [LesionBox] = []
        for index in 0..<count {
            let positive = isPositive(index)
            let frames = small ? 9 : 25
            let side = index % 4 < 2 ? "OD" : "OS"
            let id = (positive ? "DME" : "normal") + String(format: "/H%04d_%@", index, side)
            let generated = SyntheticRetinaOCT(width: x, depth: z, frames: frames).volume(seed: recordSeed(index), diseased: positive, id: id)
            let size = x * z
            let bscans: [Frame] = (0..<frames).map { (f: Int) -> Frame in
                Frame(width: x, height: z, channels: 1, pixels: Array(generated.pixels[f * size..<(f + 1) * size]))
            }
            let gradient: [UInt8] = (0..<96 * 96).map { (i: Int) -> UInt8 in UInt8((i / 96 + i % 96) % 256) }
            var writer = HeyexXMLWriter(bscans: bscans, localizer: Frame(width: 96, height: 96, channels: 1, pixels: gradient))
            writer.patientID = String(format: "H%04d", index / 2)
            writer.laterality = side == "OD" ? "R" : "L"
            writer.seriesID = 1000 + index
            // Visits, devices and scan densities differ, so record metadata is worth checking per record.
            writer.studyDate = (2021, 1 + index % 12, 1 + index % 28)
            writer.model = index % 3 == 0 ? "Spectralis OCT2" : "Spectralis"
            writer.distance = 0.06 + 0.01 * Double(index % 5)
            writer.layers = (0..<frames).map { (f: Int) -> [(name: String, depths: [Float])] in
                let ilm: [Float] = (0..<x).map { (a: Int) -> Float in Float(z / 5 + (a + f) % 7) }
                let bm: [Float] = (0..<x).map { (a: Int) -> Float in Float(3 * z / 4 - (a + f) % 5) }
                return [(name: "ILM", depths: ilm), (name: "BM", depths: bm)]
            }
            try writer.write(to: out + "/" + id)
            boxes += shardBoxes(generated.lesions, frames: frames, depth: z, width: x)
        }
        return (boxes, (0..<count).filter(isPositive).count)
    }

    // MARK: - Manifests

    /// The end every OCT manifest shares: a seeded ratio split, one-channel central slices (at
    /// `normalizedSize` when set), 16 records a shard; `intensity` adds that key.
    private func volumeManifestTail(train: String, test: String, intensity: String? = nil) -> String {
        let size = normalizedSize.map { "\n  size: [\($0.0), \($0.1)]" } ?? ""
        return """
            split:
              policy: ratio
              train: \(train)
              test: \(test)
              seed: \(seed)
            normalize:\(size)
              channels: 1
              slices: {central: \(centralSlices)}\(intensity.map { "\n  intensity: \($0)" } ?? "")
            shards:
              records_per_shard: 16
              compression: 4

            """
    }

    var manifest: String {
        let size = normalizedSize.map { "\n  size: [\($0.0), \($0.1)]" } ?? ""
        switch dataset {
        case .mmd:
            return """
            # Synthetic MMD-style fundus photographs (mims-ingest synth --dataset mmd).
            dataset: mmd-synthetic
            kind: image2d
            source:
              root: .
              include: ["**/*.jpg"]
            reader: auto
            labels:
              from: folder
              classes: [healthy, MMD]
              map: {healthy: healthy, MMD: MMD}
            patient:
              regex: '(P\\d+)-'
            split:
              policy: ratio
              train: 0.7
              test: 0.3
              seed: \(seed)
            normalize:\(size)
              channels: 3
            shards:
              records_per_shard: 256
              compression: 4

            """
        case .crcMSI:
            return """
            # Synthetic Kather-layout CRC-MSI tiles (mims-ingest synth --dataset crc-msi).
            dataset: crc-msi-synthetic
            kind: image2d
            source:
              root: .
              include: ["CRC_DX_*/**/*.png"]
            reader: auto
            labels:
              from: folder
              classes: [\(histologyClasses.joined(separator: ", "))]
              map: {\(histologyClasses.map { "'CRC_DX_.*_\($0)': \($0)" }.joined(separator: ", "))}
            patient:
              regex: 'TCGA-[A-Z0-9]{2}-[A-Z0-9]{4}'
            official_split:
              component: '^CRC_DX_(TRAIN|TEST)_'
              map: {TRAIN: train, TEST: test}
            split:
              policy: official-move
              move_fraction: 0.02
              seed: \(seed)
            normalize:
              channels: 3
            shards:
              records_per_shard: 1000
              compression: 4

            """
        case .cirrus:
            return """
            # Synthetic Zeiss Cirrus cubes (mims-ingest synth --dataset cirrus).
            dataset: cirrus-synthetic
            kind: volume3d
            source:
              root: .
              include: ["*.img"]
            reader: cirrus-img
            labels:
              from: csv
              file: labels.csv
              key: file
              label: diagnosis
              match: stem
              classes: [normal, DME]
            patient:
              regex: '^(.+)_[^_]+ \\d+x\\d+_'
            \(volumeManifestTail(train: "0.67", test: "0.33"))
            """
        case .heyexXML:
            return """
            # Synthetic Heidelberg Heyex XML export folders (mims-ingest synth --dataset heyex-xml).
            dataset: heyex-xml-synthetic
            kind: volume3d
            source:
              root: .
              include: ["**/*.xml"]
            reader: heyex-xml
            labels:
              from: folder
              classes: [normal, DME]
              map: {normal: normal, DME: DME}
            patient: header
            \(volumeManifestTail(train: "0.5", test: "0.5"))
            """
        case .spectralis:
            return """
            # Synthetic Heidelberg Spectralis .vol volumes (mims-ingest synth --dataset spectralis).
            dataset: spectralis-synthetic
            kind: volume3d
            source:
              root: .
              include: ["**/*.vol"]
            reader: spectralis-vol
            labels:
              from: folder
              classes: [normal, DME]
              map: {normal: normal, DME: DME}
            patient:
              regex: 'S\\d+'
            \(volumeManifestTail(train: "0.5", test: "0.5", intensity: "fourth-root"))
            """
        }
    }
}

/// Why a synthetic dataset cannot be written as asked.
public enum SyntheticError: Error, CustomStringConvertible, Equatable {
    case classes(dataset: String, classes: Int)

    public var description: String {
        switch self {
        case let .classes(dataset, classes):
            dataset == SyntheticDataset.crcMSI.rawValue
                ? "crc-msi is synthesized with 2 to \(SyntheticDataset.maximumClasses) classes, not \(classes)"
                : "\(dataset) is synthesized with 2 classes only (--classes \(classes) needs --dataset crc-msi)"
        }
    }
}
