import Foundation
import MIMSConfig
import MIMSImage
import MIMSOCT
import MIMSShards
import MIMSSplit
import MIMSTestSupport
import Testing
@testable import MIMSIngest

/// Every matched file is in the shards or listed with a reason; shards carry tamper evidence.
/// Each test reproduces a way files used to vanish or edits went unnoticed (issue "Trust").
struct TrustTests {
    func ingest(_ source: String, _ out: String, resume: Bool = false, jobs: Int = 2) throws -> IngestRunner.Report {
        let manifest = try ManifestParser.load(path: source + "/manifest.yaml")
        return try IngestRunner(manifest: manifest, output: out,
                                options: .init(jobs: jobs, resume: resume, toolVersion: "test", createdUTC: "2026-01-01T00:00:00Z"),
                                reporter: ProgressReporter(format: .quiet)).run()
    }

    func editManifest(_ source: String, _ edit: (String) -> String) throws {
        let text = try String(contentsOfFile: source + "/manifest.yaml", encoding: .utf8)
        try edit(text).write(toFile: source + "/manifest.yaml", atomically: true, encoding: .utf8)
    }

    func records(_ out: String) throws -> [String: ShardRecordInfo] {
        var all: [String: ShardRecordInfo] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: out) where ShardSet.parseShardName(name) != nil {
            for record in try ShardReader(path: out + "/" + name).records { all[record.id] = record }
        }
        return all
    }

    func fundusFiles(_ source: String) throws -> [String] {
        try FileManager.default.subpathsOfDirectory(atPath: source).filter { $0.hasSuffix(".jpg") }.sorted()
    }

    /// 1. `x.png` beside `x.jpg`: the first keeps the id and is written, the other is rejected
    /// under its own path naming both, and --resume keeps that outcome.
    @Test func duplicateIDsRejectTheLoserAndWriteTheWinner() throws {
        let dir = try TemporaryDirectory()
        let source = dir.path + "/src", out = dir.path + "/out"
        _ = try SyntheticDatasetWriter(dataset: .mmd, count: 8, small: true).write(to: source)
        try editManifest(source) { $0.replacingOccurrences(of: "include: [\"**/*.jpg\"]", with: "include: [\"**/*.jpg\", \"**/*.png\"]") }
        let first = try fundusFiles(source)[0]
        let image = try ImageDecoder.decode(path: source + "/" + first).frame(channels: 3)
        let twin = String(first.dropLast(4)) + ".png"
        try Data(PNGEncoder.encode(image)).write(to: URL(fileURLWithPath: source + "/" + twin))

        let report = try ingest(source, out)
        #expect(report.matched == 9 && report.written == 8 && report.rejections.count == 1 && report.problems.isEmpty)
        let rejection = try #require(report.rejections.first)
        #expect(rejection.path.hasSuffix(twin) && rejection.stage == .discovery)
        #expect(rejection.reason.contains(twin) && rejection.reason.contains(first))
        let stored = try records(out)
        #expect(stored[String(first.dropLast(4))]?.source == first)
        #expect(try ShardSetVerifier.verify(directory: out).problems.isEmpty)

        let again = try ingest(source, out, resume: true)
        #expect(again.written == 8 && again.rejections == report.rejections && again.problems.isEmpty)
        #expect(RejectedFile.read(out + "/rejected.jsonl") == report.rejections)
    }

    /// 2. Linked files and folders are ingested, a dangling link and a FIFO are rejected, a loop
    /// is reported and not followed.
    @Test func symlinksAreFollowedAndBrokenOnesRejected() throws {
        let dir = try TemporaryDirectory()
        let source = dir.path + "/src", out = dir.path + "/out", elsewhere = dir.path + "/elsewhere"
        _ = try SyntheticDatasetWriter(dataset: .mmd, count: 8, small: true).write(to: source)
        let files = try fundusFiles(source)
        let fm = FileManager.default
        try fm.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        // A linked file.
        try fm.moveItem(atPath: source + "/" + files[0], toPath: elsewhere + "/one.jpg")
        try fm.createSymbolicLink(atPath: source + "/" + files[0], withDestinationPath: elsewhere + "/one.jpg")
        // A linked folder: the whole healthy class lives elsewhere.
        try fm.moveItem(atPath: source + "/healthy", toPath: elsewhere + "/healthy")
        try fm.createSymbolicLink(atPath: source + "/healthy", withDestinationPath: elsewhere + "/healthy")
        try fm.createSymbolicLink(atPath: source + "/MMD/P9999-OD.jpg", withDestinationPath: dir.path + "/nothing-here.jpg")
        try fm.createSymbolicLink(atPath: source + "/MMD/loop", withDestinationPath: "..")
        #expect(mkfifo(source + "/MMD/P9998-OS.jpg", 0o644) == 0)

        let report = try ingest(source, out)
        #expect(report.matched == 10 && report.written == 8 && report.rejections.count == 2 && report.problems.isEmpty)
        let reasons = Dictionary(uniqueKeysWithValues: report.rejections.map { (($0.path as NSString).lastPathComponent, $0.reason) })
        #expect(reasons["P9999-OD.jpg"]?.contains("broken symbolic link") == true)
        #expect(reasons["P9998-OS.jpg"]?.contains("named pipe") == true)
        #expect(report.warnings.contains { $0.text.contains("MMD/loop") && $0.text.contains("loop") })
        let stored = try records(out)
        #expect(stored.count == 8 && files.allSatisfy { stored[String($0.dropLast(4))] != nil })
        let linked = try #require(stored[String(files[0].dropLast(4))])
        #expect(linked.sourceSHA256 == SHA256.hex(of: try FileBytes.read(elsewhere + "/one.jpg")))
    }

    /// 3. The summary adds up, and verify notices when rejected.jsonl, the shards and the journal
    /// stop agreeing.
    @Test func verifyChecksTheAccounting() throws {
        let dir = try TemporaryDirectory()
        let source = dir.path + "/src", out = dir.path + "/out"
        _ = try SyntheticDatasetWriter(dataset: .mmd, count: 10, small: true).write(to: source)
        let files = try fundusFiles(source)
        for victim in files.prefix(2) { try Data("not an image".utf8).write(to: URL(fileURLWithPath: source + "/" + victim)) }
        let report = try ingest(source, out)
        #expect(report.matched == 10 && report.written == 8 && report.rejections.count == 2)
        #expect(report.matched == report.written + report.rejections.count)
        let verified = try ShardSetVerifier.verify(directory: out)
        #expect(verified.problems.isEmpty)
        #expect(verified.accounting?.matched == 10 && verified.accounting?.records == 8 && verified.accounting?.rejected == 2)
        // Drop one rejection: one file is now unaccounted for.
        let lines = try String(contentsOfFile: out + "/rejected.jsonl", encoding: .utf8).split(separator: "\n")
        try (lines.dropFirst().joined(separator: "\n") + "\n").write(toFile: out + "/rejected.jsonl", atomically: true, encoding: .utf8)
        let broken = try ShardSetVerifier.verify(directory: out).problems
        #expect(broken.contains { $0.contains("unaccounted") })
        #expect(broken.contains { $0.contains("in no shard and was not rejected") })
    }

    /// 4. A file that changes between discovery and reading is rejected, and truncating files
    /// while a run reads them never crashes it (it used to die of SIGBUS on a mapped file).
    @Test func filesThatChangeWhileReadAreRejected() throws {
        let dir = try TemporaryDirectory()
        let source = dir.path + "/src"
        _ = try SyntheticDatasetWriter(dataset: .spectralis, count: 8, seed: 5, small: true).write(to: source)
        let manifest = try ManifestParser.load(path: source + "/manifest.yaml")
        let discovered = try Discovery.discover(manifest).records
        let victim = discovered[0]
        let handle = try #require(FileHandle(forWritingAtPath: victim.path))
        handle.seekToEndOfFile()
        handle.write(Data(repeating: 0, count: 10))
        try handle.close()
        let processor = RecordProcessor(manifest: manifest, frameShape: FrameShape(height: 224, width: 224, channels: 1))
        guard case let .failure(rejection) = processor.process(victim) else {
            Issue.record("a file that grew after discovery was ingested")
            return
        }
        #expect(rejection.reason.contains("changed while being read"))
        if case .failure = processor.process(discovered[1]) { Issue.record("an unchanged file was rejected") }

        // Truncate files at random sizes while the run reads them.
        let volumes = discovered.map(\.path)
        let stop = ManagedAtomicFlag()
        let truncator = Thread {
            var random = TestRandom(state: 9)
            while !stop.isSet {
                let path = volumes[Int(random.next() % UInt64(volumes.count))]
                if let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int, size > 1000 {
                    truncate(path, off_t(Int(random.next() % UInt64(size))))
                }
                usleep(2000)
            }
        }
        truncator.start()
        let report = try? ingest(source, dir.path + "/out", jobs: 2)
        stop.set()
        if let report {
            #expect(report.matched == report.written + report.rejections.count)
            #expect(report.rejections.allSatisfy { !$0.reason.isEmpty })
        }
    }

    /// 5. When every file fails, rejected.jsonl lists them and the error gives the count and the
    /// most common reasons; when nothing matches, no empty output folder is left behind.
    @Test func runsWhereEveryFileFails() throws {
        let dir = try TemporaryDirectory()
        let source = dir.path + "/src", out = dir.path + "/out"
        _ = try SyntheticDatasetWriter(dataset: .mmd, count: 6, small: true).write(to: source)
        for file in try fundusFiles(source) { try Data("garbage".utf8).write(to: URL(fileURLWithPath: source + "/" + file)) }
        do {
            _ = try ingest(source, out)
            Issue.record("a run with no readable file succeeded")
        } catch let error as IngestError {
            guard case let .allRejected(count, _, reasons) = error else { Issue.record("wrong error \(error)"); return }
            #expect(count == 6)
            #expect(reasons.first?.hasPrefix("6x") == true && reasons.first?.contains("not a JPEG, PNG or TIFF") == true)
            #expect("\(error)".contains("all 6 matched files were rejected"))
        }
        #expect(RejectedFile.read(out + "/rejected.jsonl").count == 6)

        try editManifest(source) { $0.replacingOccurrences(of: "**/*.jpg", with: "**/*.jpeg") }
        #expect(throws: IngestError.noFilesMatched(root: (source as NSString).standardizingPath, include: ["**/*.jpeg"])) { try ingest(source, dir.path + "/never") }
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/never"))
    }

    /// 6. A .vol whose header no longer matches its size (SizeX edited to 1) is refused, while the
    /// real export with 132 unreferenced trailing bytes still reads with a warning that reaches
    /// warnings.jsonl.
    @Test func volumeHeadersThatDisagreeWithTheFileAreRejected() throws {
        let real = repositoryRoot + "/Tests/Fixtures/oct/line-willis-0.vol"
        let volume = try SpectralisVolReader.read(path: real)
        #expect(volume.metadata.warnings.contains { $0.contains("132 bytes") })
        var bytes = try FileBytes.read(real)
        bytes.replaceSubrange(12..<16, with: [1, 0, 0, 0])  // SizeX = 1
        let dir = try TemporaryDirectory()
        let edited = dir.path + "/edited.vol"
        try Data(bytes).write(to: URL(fileURLWithPath: edited))
        #expect {
            try SpectralisVolReader.read(path: edited)
        } throws: { error in
            guard case let .inconsistent(_, reason) = error as? OCTError else { return false }
            return reason.contains("SizeX 1") && reason.contains("would go unread")
        }

        // The warning of the real file is kept through ingest.
        let source = dir.path + "/src"
        try FileManager.default.createDirectory(atPath: source + "/a", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: source + "/b", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: real, toPath: source + "/a/one.vol")
        try FileManager.default.copyItem(atPath: repositoryRoot + "/Tests/Fixtures/oct/circle-willis-2.vol", toPath: source + "/b/two.vol")
        try """
        dataset: vols
        kind: volume3d
        source: {root: ., include: ["**/*.vol"]}
        reader: spectralis-vol
        labels: {from: folder, classes: [a, b], map: {a: a, b: b}}
        split: {policy: ratio, train: 0.5, test: 0.5, seed: 1}
        normalize: {size: [64, 64], channels: 1}

        """.write(toFile: source + "/manifest.yaml", atomically: true, encoding: .utf8)
        let report = try ingest(source, dir.path + "/out")
        #expect(report.written == 2)
        let kept = WarningsFile.read(dir.path + "/out/warnings.jsonl")
        #expect(kept.contains { $0.path == "a/one.vol" && $0.text.contains("132 bytes") })
    }

    /// 7. BigTIFF decodes (libtiff reads it), pixel-equal to tifffile; a broken strip table is a
    /// rejection naming it, not garbage pixels.
    @Test func bigTIFFAndDamagedStripTables() throws {
        let dir = try TemporaryDirectory()
        let script = """
        import sys, struct, numpy as np, tifffile
        rng = np.random.default_rng(3)
        a = rng.integers(0, 256, (40, 30, 3), dtype=np.uint8)
        tifffile.imwrite(sys.argv[1] + '/big.tif', a, bigtiff=True, photometric='rgb')
        np.save(sys.argv[1] + '/big.npy', a)
        g = rng.integers(0, 256, (16, 8), dtype=np.uint8)
        tifffile.imwrite(sys.argv[1] + '/strips.tif', g, rowsperstrip=4, photometric='minisblack')
        b = bytearray(open(sys.argv[1] + '/strips.tif', 'rb').read())
        ifd = struct.unpack_from('<I', b, 4)[0]
        n = struct.unpack_from('<H', b, ifd)[0]
        for i in range(n):
            at = ifd + 2 + 12 * i
            if struct.unpack_from('<H', b, at)[0] == 279:   # StripByteCounts: say 3 strips, not 4
                struct.pack_into('<I', b, at + 4, 3)
        open(sys.argv[1] + '/strips-bad.tif', 'wb').write(bytes(b))
        """
        _ = try run(["python3", "-c", script, dir.path])
        #expect(ImageFormat.sniff(try FileBytes.read(dir.path + "/big.tif")) == .tiff)
        let big = try ImageDecoder.decode(path: dir.path + "/big.tif").to8Bit()
        let expected = try run(["python3", "-c", "import sys,numpy as np;sys.stdout.write(np.load(sys.argv[1]).tobytes().hex())", dir.path + "/big.npy"])
        #expect(big.width == 30 && big.height == 40 && big.channels == 3)
        #expect(big.pixels.map { String(format: "%02x", $0) }.joined() == expected)
        _ = try ImageDecoder.decode(path: dir.path + "/strips.tif")
        #expect {
            try ImageDecoder.decode(path: dir.path + "/strips-bad.tif")
        } throws: { error in
            "\(error)".contains("StripByteCounts")
        }
    }

    /// 6, 7. A ColorMap of the wrong type, a palette TIFF with an alpha sample and old-style
    /// JPEG-in-TIFF are refused with reasons that say what they are.
    @Test func tiffVariantsGetReasonsThatNameThem() throws {
        let dir = try TemporaryDirectory()
        let script = """
        import sys, struct, numpy as np, tifffile
        d = sys.argv[1]
        rng = np.random.default_rng(1)
        idx = rng.integers(0, 4, (8, 8), dtype=np.uint8)
        cmap = rng.integers(0, 65535, (3, 256)).astype(np.uint16)
        tifffile.imwrite(d + '/palette.tif', idx, photometric='palette', colormap=cmap)
        tifffile.imwrite(d + '/gray.tif', idx, photometric='minisblack')
        def patch(src, dst, tag, field, value):
            b = bytearray(open(src, 'rb').read())
            ifd = struct.unpack_from('<I', b, 4)[0]
            for i in range(struct.unpack_from('<H', b, ifd)[0]):
                at = ifd + 2 + 12 * i
                if struct.unpack_from('<H', b, at)[0] == tag:
                    if field == 'type': struct.pack_into('<H', b, at + 2, value)
                    else: struct.pack_into('<H', b, at + 8, value)
            open(dst, 'wb').write(bytes(b))
        patch(d + '/palette.tif', d + '/colormap-type.tif', 320, 'type', 4)   # ColorMap as LONG
        patch(d + '/gray.tif', d + '/ojpeg.tif', 259, 'value', 6)             # Compression = OJPEG
        # A palette image with an extra (alpha) sample, written by hand: tifffile refuses to.
        w = h = 4
        pixels = bytes(8 * w * h // 4)
        entries = [(256, 3, 1, w), (257, 3, 1, h), (258, 3, 2, None), (259, 3, 1, 1), (262, 3, 1, 3), (273, 4, 1, None),
                   (277, 3, 1, 2), (278, 3, 1, h), (279, 4, 1, len(pixels) * 0 + 2 * w * h), (284, 3, 1, 1), (320, 3, 768, None), (338, 3, 1, 2)]
        ifd_at = 8
        data_at = ifd_at + 2 + 12 * len(entries) + 4
        bits_at, cmap_at = data_at, data_at + 4
        strip_at = cmap_at + 768 * 2
        out = bytearray(b'II*' + bytes([0]) + struct.pack('<I', ifd_at))
        out += struct.pack('<H', len(entries))
        for tag, typ, count, value in entries:
            if tag == 273: value = strip_at
            if tag == 320: value = cmap_at
            if tag == 258: out += struct.pack('<HHIHH', tag, typ, count, 8, 8)   # two SHORTs fit in the entry
            elif typ == 3 and count == 1: out += struct.pack('<HHIHH', tag, typ, count, value, 0)
            else: out += struct.pack('<HHII', tag, typ, count, value)
        out += struct.pack('<I', 0)
        out += struct.pack('<HH', 8, 8) + cmap.astype('<u2').tobytes() + bytes(2 * w * h)
        open(d + '/palette-alpha.tif', 'wb').write(bytes(out))
        """
        _ = try run(["python3", "-c", script, dir.path])
        _ = try ImageDecoder.decode(path: dir.path + "/palette.tif")
        func reason(_ name: String) -> String {
            do {
                _ = try ImageDecoder.decode(path: dir.path + "/" + name)
                return "decoded"
            } catch { return "\(error)" }
        }
        #expect(reason("colormap-type.tif").contains("ColorMap"), "\(reason("colormap-type.tif"))")
        #expect(reason("ojpeg.tif").contains("old-style JPEG-in-TIFF"), "\(reason("ojpeg.tif"))")
        #expect(reason("palette-alpha.tif").contains("palette TIFF with 2 samples per pixel"), "\(reason("palette-alpha.tif"))")
    }

    /// 8. Volumes shorter than `slices: central` are counted and listed; `min_frames` rejects them.
    @Test func shortVolumesAreListedOrRejected() throws {
        let dir = try TemporaryDirectory()
        let source = dir.path + "/src"
        _ = try SyntheticDatasetWriter(dataset: .cirrus, count: 4, seed: 2, small: true).write(to: source)
        try editManifest(source) { $0.replacingOccurrences(of: "slices: {central: 30}", with: "slices: {central: 40}") }
        let report = try ingest(source, dir.path + "/out")
        #expect(report.written == 4)
        #expect(report.shortVolumes.map(\.kept) == [32, 32, 32, 32] && report.shortVolumes.allSatisfy { $0.wanted == 40 })
        #expect(try SplitReport.build(directory: dir.path + "/out").shortVolumes.count == 4)
        try editManifest(source) { $0.replacingOccurrences(of: "slices: {central: 40}", with: "slices: {central: 40}\n  min_frames: 33") }
        #expect(throws: IngestError.self) { try ingest(source, dir.path + "/out2") }
        let rejected = RejectedFile.read(dir.path + "/out2/rejected.jsonl")
        #expect(rejected.count == 4 && rejected.allSatisfy { $0.reason.contains("32 frames, fewer than normalize.min_frames 33") })
    }

    /// 9. `patient: header` takes the patient from the export (.vol and E2E headers), so files
    /// of one patient land in one split though their names carry no id; a file with no patient
    /// id is rejected saying so.
    @Test func patientsFromFileHeaders() throws {
        let dir = try TemporaryDirectory()
        let source = dir.path + "/src", fixtures = repositoryRoot + "/Tests/Fixtures/oct"
        for folder in ["a", "b"] { try FileManager.default.createDirectory(atPath: source + "/" + folder, withIntermediateDirectories: true) }
        for (from, to) in [("line-willis-0.vol", "a/scan1.vol"), ("circle-willis-2.vol", "b/scan2.vol"),
                           ("e2e_minimized.E2E", "a/scan3.E2E"), ("circle-valid.vol", "b/scan4.vol")] {
            try FileManager.default.copyItem(atPath: fixtures + "/" + from, toPath: source + "/" + to)
        }
        try """
        dataset: headers
        kind: volume3d
        source: {root: ., include: ["**/*.vol", "**/*.E2E"]}
        reader: auto
        labels: {from: folder, classes: [a, b], map: {a: a, b: b}}
        patient: header
        split: {policy: ratio, train: 0.5, test: 0.5, seed: 3}
        normalize: {size: [64, 64], channels: 1}

        """.write(toFile: source + "/manifest.yaml", atomically: true, encoding: .utf8)
        let report = try ingest(source, dir.path + "/out")
        #expect(report.matched == 4 && report.written == 3 && report.rejections.count == 1)
        #expect(report.rejections.first?.path.hasSuffix("scan4.vol") == true)
        #expect(report.rejections.first?.reason.contains("records no patient id") == true)
        let stored = try records(dir.path + "/out")
        #expect(stored["a/scan1"]?.patient == "01234" && stored["b/scan2"]?.patient == "01234" && stored["a/scan3"]?.patient == "32323")
        let splits = try SplitsFile.read(from: dir.path + "/out/splits.json")
        #expect(splits.assignment["a/scan1"] == splits.assignment["b/scan2"])
        #expect(try SplitReport.build(directory: dir.path + "/out").overlaps.isEmpty)
        #expect(throws: ConfigError.self) {
            try ManifestParser.parse("dataset: x\nkind: image2d\nsource: {root: .}\nlabels: {from: folder, classes: [a], map: {a: a}}\npatient: header\nsplit: {policy: official}\nnormalize: {channels: 1}\n", file: "m.yaml")
        }
    }

    /// 10. A label flipped with h5py is caught by verify and by mims-split's check, naming the
    /// record once; the digests match an independent computation in Python; format-1 shards
    /// still verify, with a note.
    @Test func tamperedLabelsAreCaught() throws {
        let dir = try TemporaryDirectory()
        let source = dir.path + "/src", out = dir.path + "/out"
        _ = try SyntheticDatasetWriter(dataset: .mmd, count: 10, small: true).write(to: source)
        _ = try ingest(source, out)
        #expect(try ShardSetVerifier.verify(directory: out).problems.isEmpty)
        // Independent oracle: hashlib over the h5py fields, and the set digest.
        let oracle = """
        import sys, glob, json, hashlib, h5py
        digests = []
        for path in sorted(glob.glob(sys.argv[1] + '/*.h5')):
            with h5py.File(path, 'r') as f:
                assert f.attrs['format_version'] == 2
                for i in range(len(f['id'])):
                    fields = [b'mims-record-2', f['id'][i], str(int(f['label'][i])).encode(), f['patient'][i],
                              f['source_sha256'][i], f['pixels_sha256'][i]]
                    d = hashlib.sha256(b'\\0'.join(fields)).hexdigest()
                    assert d == f['record_sha256'][i].decode(), path
                    digests.append(d)
        s = hashlib.sha256(''.join(d + '\\n' for d in sorted(digests)).encode()).hexdigest()
        assert s == json.load(open(sys.argv[1] + '/splits.json'))['set_digest']
        print(len(digests))
        """
        #expect(try run(["python3", "-c", oracle, out]).trimmingCharacters(in: .whitespacesAndNewlines) == "10")

        let flip = """
        import sys, h5py
        with h5py.File(sys.argv[1] + '/train-00000.h5', 'r+') as f:
            f['label'][0] = 1 - f['label'][0]
            print(f['id'].asstr()[0])
        """
        let id = try run(["python3", "-c", flip, out]).trimmingCharacters(in: .whitespacesAndNewlines)
        let problems = try ShardSetVerifier.verify(directory: out).problems
        #expect(problems.filter { $0.contains("'\(id)'") }.count == 1, "\(problems)")
        #expect(problems.contains { $0.contains("'\(id)'") && $0.contains("record_sha256 does not match") })
        #expect(problems.count == 1, "\(problems)")
        let check = try SplitReport.build(directory: out)
        #expect(check.problems.contains { $0.contains(id) && $0.contains("digest") })

        // A forger who also recomputes the record digest is caught by the set digest; a zeroed
        // frame is one problem for its record.
        let forge = """
        import sys, hashlib, h5py
        with h5py.File(sys.argv[1] + '/train-00000.h5', 'r+') as f:
            fields = [b'mims-record-2', f['id'][0], str(int(f['label'][0])).encode(), f['patient'][0],
                      f['source_sha256'][0], f['pixels_sha256'][0]]
            f['record_sha256'][0] = hashlib.sha256(b'\\0'.join(fields)).hexdigest().encode()
            start = f['record_frame_start'][1]
            f['frames'][start] = 0
            print(f['id'].asstr()[1])
        """
        let zeroed = try run(["python3", "-c", forge, out]).trimmingCharacters(in: .whitespacesAndNewlines)
        let forged = try ShardSetVerifier.verify(directory: out).problems
        #expect(forged.count == 2, "\(forged)")
        #expect(forged.contains { $0.contains("set_digest") })
        #expect(forged.contains { $0.contains("'\(zeroed)'") && $0.contains("pixels do not match") })

        // A format-1 set (no digests) verifies, with a note.
        let downgrade = """
        import sys, glob, json, h5py
        for path in glob.glob(sys.argv[1] + '/*.h5'):
            with h5py.File(path, 'r+') as f:
                f.attrs['format_version'] = 1
                del f['record_sha256']
        s = json.load(open(sys.argv[1] + '/splits.json'))
        del s['set_digest']
        json.dump(s, open(sys.argv[1] + '/splits.json', 'w'))
        """
        let v1 = dir.path + "/v1"
        _ = try ingest(source, v1)
        _ = try run(["python3", "-c", downgrade, v1])
        let result = try ShardSetVerifier.verify(directory: v1)
        #expect(result.problems.isEmpty, "\(result.problems)")
        #expect(result.notes.contains { $0.contains("format version 1") })
    }

    /// 11. Rejects that fall on one split are reported as drift from the requested ratio.
    @Test func rejectsThatSkewTheSplitAreReported() throws {
        let dir = try TemporaryDirectory()
        let source = dir.path + "/src"
        _ = try SyntheticDatasetWriter(dataset: .mmd, count: 24, small: true).write(to: source)
        try editManifest(source) { $0.replacingOccurrences(of: "train: 0.7\n  test: 0.3", with: "train: 0.5\n  test: 0.5") }
        let clean = try ingest(source, dir.path + "/clean")
        #expect(clean.splitDrift.isEmpty)
        let splits = try SplitsFile.read(from: dir.path + "/clean/splits.json")
        let healthyTest = splits.assignment.filter { $0.value == "test" && $0.key.hasPrefix("healthy/") }.keys.sorted()
        #expect(healthyTest.count >= 5)
        for id in healthyTest.prefix(5) { try Data("x".utf8).write(to: URL(fileURLWithPath: source + "/" + id + ".jpg")) }
        let skewed = try ingest(source, dir.path + "/skewed")
        #expect(skewed.splitDrift.contains { $0.hasPrefix("healthy: test") && $0.contains("5 of its") })
        #expect(try SplitReport.build(directory: dir.path + "/skewed").splitDrift == skewed.splitDrift)
    }

    /// 12. A class without files is a warning, not silence.
    @Test func classesWithoutFilesAreWarnings() throws {
        let dir = try TemporaryDirectory()
        let source = dir.path + "/src"
        _ = try SyntheticDatasetWriter(dataset: .mmd, count: 6, small: true).write(to: source)
        try editManifest(source) {
            $0.replacingOccurrences(of: "classes: [healthy, MMD]", with: "classes: [healthy, MMD, other]")
                .replacingOccurrences(of: "map: {healthy: healthy, MMD: MMD}", with: "map: {healthy: healthy, MMD: MMD, other: other}")
        }
        let report = try ingest(source, dir.path + "/out")
        #expect(report.warnings.contains { $0.text.contains("class 'other' has no files") })
        #expect(WarningsFile.read(dir.path + "/out/warnings.jsonl").contains { $0.text.contains("class 'other'") })
    }
}

/// A flag one thread sets and another polls.
final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { lock.lock(); value = true; lock.unlock() }
}
