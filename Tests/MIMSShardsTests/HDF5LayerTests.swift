import Foundation
import MIMSTestSupport
import Testing
@testable import MIMSShards

struct HDF5LayerTests {
    @Test func hyperslabsAttributesAndStrings() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path + "/layer.h5"
        let created = try HDF5File.create(path)
        do {
            let file = created
            let root = try file.root()
            let grid = try root.createDataset("grid", of: Int32.self, shape: [6, 5], chunk: [2, 5], deflateLevel: 6)
            let block: [Int32] = [1, 2, 3, 4, 5, 6]
            try block.withUnsafeBufferPointer { try grid.write($0, start: [2, 1], count: [2, 3]) }
            try grid.setAttribute("units", "mm")
            try grid.setAttribute("scale", Int64(-7))
            let group = try root.createGroup("meta")
            try group.createStringDataset("names", values: ["α", "", "b c"])
            try group.createStringDataset("hashes", values: ["ab", "0123"], fixedLength: 4)
            #expect(try grid.filters() == [2, 1])  // shuffle, then deflate
        }
        try created.close()  // every group and dataset above is released by now
        let file = try HDF5File.open(path)
        let grid = try file.root().dataset("grid")
        #expect(try grid.shape() == [6, 5])
        #expect(try grid.chunkShape() == [2, 5])
        let all = try grid.read(as: Int32.self)
        var expected = [Int32](repeating: 0, count: 30)
        for (i, v) in [1, 2, 3, 4, 5, 6].enumerated() { expected[(2 + i / 3) * 5 + 1 + i % 3] = Int32(v) }
        #expect(all == expected)
        var part = [Int64](repeating: 0, count: 4)
        try part.withUnsafeMutableBufferPointer { try grid.read(into: $0, start: [3, 1], count: [1, 4]) }
        #expect(part == [4, 5, 6, 0])  // converted from int32 on read
        #expect(try grid.stringAttribute("units") == "mm")
        #expect(try grid.int64Attribute("scale") == -7)
        let meta = try file.root().group("meta")
        #expect(try meta.dataset("names").readStrings() == ["α", "", "b c"])
        #expect(try meta.dataset("hashes").readStrings() == ["ab", "0123"])
    }

    @Test func errorsNameFileAndObject() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path + "/e.h5"
        let file = try HDF5File.create(path)
        let root = try file.root()
        do {
            _ = try root.dataset("missing")
            Issue.record("opened a missing dataset")
        } catch let error as HDF5Error {
            #expect(error.file == path)
            #expect(error.object == "/missing")
            #expect("\(error)".hasPrefix("\(path): cannot open dataset '/missing'"))
        }
        let data = try root.createDataset("d", of: UInt8.self, shape: [4])
        var small = [UInt8](repeating: 0, count: 2)
        #expect(throws: HDF5Error.self) {
            try small.withUnsafeMutableBufferPointer { try data.read(into: $0, start: [3], count: [2]) }
        }
        #expect(throws: HDF5Error.self) { try HDF5File.open(dir.path + "/nope.h5") }
    }
}
