import Foundation
import MIMSTestSupport
import Testing
@testable import MIMSShards

/// The /meta record metadata: written when any record has it, read back per record (partly empty
/// records included), absent from shards without it, and what h5py sees.
struct RecordMetadataTests {
    @Test func roundTripsAndStaysAbsentWhenUnknown() throws {
        let dir = try TemporaryDirectory()
        let shape = FrameShape(height: 8, width: 6, channels: 1)
        var records = ShardRoundTripTests.makeRecords(count: 3, shape: shape)
        records[0].metadata = RecordMetadata(patientID: "P-ü1", scanDate: "2021-03-14", scanPattern: "Volume", device: "Heidelberg Engineering Spectralis",
                                             sourceSpacingMM: [0.003872, 0.011819, 0.123])
        records[2].metadata = RecordMetadata(device: "Carl Zeiss Meditec Cirrus HD-OCT")
        let writer = try ShardWriter(directory: dir.path, header: ShardRoundTripTests.header(), frameShape: shape)
        for record in records { try writer.append(record) }
        let path = try #require(try writer.finish()).path
        let reader = try ShardReader(path: path)
        #expect(reader.records.map(\.metadata) == records.map(\.metadata))
        // Copies (merges) carry the metadata with them.
        #expect(try reader.storedRecord(1).record.metadata == records[1].metadata)
        #expect(try reader.storedRecord(0).record.metadata == records[0].metadata)

        let script = """
        import h5py, json, sys, numpy as np
        f = h5py.File(sys.argv[1], "r"); m = f["meta"]
        out = {k: m[k].asstr()[:].tolist() for k in ("patient_id", "scan_date", "scan_pattern", "device")}
        out["source_spacing_mm"] = [[None if np.isnan(x) else float(x) for x in row] for row in m["source_spacing_mm"][:]]
        print(json.dumps(out))
        """
        let seen = try JSONSerialization.jsonObject(with: Data(try run(["python3", "-c", script, path]).utf8)) as! [String: Any]
        #expect(seen["patient_id"] as? [String] == records.map(\.metadata.patientID))
        #expect(seen["device"] as? [String] == records.map(\.metadata.device))
        #expect(seen["scan_date"] as? [String] == records.map(\.metadata.scanDate))
        let spacing = seen["source_spacing_mm"] as! [[Any]]
        #expect(spacing[0] as? [Double] == [0.003872, 0.011819, 0.123] && spacing[1].allSatisfy { $0 is NSNull })

        // A shard whose records carry none has no such arrays: older readers see the old layout.
        let plain = try ShardWriter(directory: dir.path, header: ShardRoundTripTests.header(index: 4), frameShape: shape)
        for var record in records { record.metadata = RecordMetadata(); try plain.append(record) }
        let plainPath = try #require(try plain.finish()).path
        let keys = try run(["python3", "-c", "import h5py,sys; print(sorted(h5py.File(sys.argv[1])['meta'].keys()))", plainPath])
        #expect(keys.trimmingCharacters(in: .whitespacesAndNewlines) == "['laterality', 'original_shape', 'spacing_mm']")
        #expect(try ShardReader(path: plainPath).records.allSatisfy { $0.metadata == RecordMetadata() })
    }
}
