import Foundation
import MIMSTestSupport
import Testing
@testable import MIMSTensor

struct SafeTensorsTests {
    /// A file written by an independent encoder (numpy + struct) with every dtype, a 0-d tensor and
    /// metadata.
    @Test func readsEveryDtypeWrittenByNumpy() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path + "/all.safetensors"
        let script = """
        import json, struct, sys, numpy as np
        arrays = {"f32": np.array([[1.5, -2.0], [3.25, 0.0]], "<f4"), "f16": np.array([0.5, -65504, 6e-8, np.inf], "<f2"),
                  "f64": np.array([1e-3, 2.5], "<f8"), "i64": np.array([-3, 7], "<i8"), "i32": np.array([[1], [2]], "<i4"),
                  "scalar": np.array(4.0, "<f4")}
        bf16 = (np.array([1.0, -0.15625, 3e38], "<f4").view("<u4") >> 16).astype("<u2")
        header, blob = {"__metadata__": {"format": "pt"}}, b""
        for name, a in list(arrays.items()) + [("bf16", bf16)]:
            dtype = {"float32": "F32", "float16": "F16", "float64": "F64", "int64": "I64", "int32": "I32", "uint16": "BF16"}[str(a.dtype)]
            header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [len(blob), len(blob) + a.nbytes]}
            blob += a.tobytes()
        text = json.dumps(header).encode()
        open(sys.argv[1], "wb").write(struct.pack("<Q", len(text)) + text + blob)
        """
        _ = try run(["python3", "-c", script, path])
        let file = try SafeTensorsFile(path: path)
        #expect(file.metadata == ["format": "pt"])
        #expect(try file.tensor("f32") == Tensor(shape: [2, 2], values: [1.5, -2, 3.25, 0]))
        let f16 = try file.tensor("f16").values
        #expect(f16[0] == 0.5 && f16[1] == -65504 && abs(f16[2] - 5.96e-8) < 1e-9 && f16[3] == .infinity)
        #expect(try file.tensor("f64").values == [Float(1e-3), 2.5])
        #expect(try file.tensor("bf16").values[0] == 1 && file.tensor("bf16").values[1] == -0.15625)
        #expect(try file.integers("i64") == [-3, 7] && file.integers("i32") == [1, 2])
        #expect(try file.tensor("scalar") == Tensor(shape: [], values: [4]))
        #expect(throws: SafeTensorsError.missing(path: path, tensor: "nope")) { try file.tensor("nope") }
    }

    @Test func writeReadRoundTrip() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path + "/rt.safetensors"
        let weight = Tensor(shape: [2, 3, 1, 1], values: [1, 2, 3, 4, 5, 6])
        try SafeTensorsWriter.write(["conv.weight": weight], integers: ["bn.num_batches_tracked": ([], [12])],
                                    metadata: ["note": "test"], to: path)
        let file = try SafeTensorsFile(path: path)
        #expect(try file.tensor("conv.weight") == weight)
        #expect(try file.integers("bn.num_batches_tracked") == [12])
        #expect(file.metadata["note"] == "test")
        let python = try run(["python3", "-c", "import json,struct,sys;b=open(sys.argv[1],'rb').read();n=struct.unpack('<Q',b[:8])[0];print(sorted(json.loads(b[8:8+n])))", path])
        #expect(python.contains("conv.weight") && python.contains("bn.num_batches_tracked"))
    }

    @Test func malformedFilesAreRejected() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path + "/bad.safetensors"
        try Data([1, 0, 0, 0, 0, 0, 0, 0x7F]).write(to: URL(fileURLWithPath: path))
        #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(path: path) }
    }
}
