import Foundation
@testable import MIMSImage

/// The repository's test fixtures folder, found from this file's path.
let fixturesPath: String = {
    var url = URL(fileURLWithPath: #filePath)
    url.deleteLastPathComponent()
    url.deleteLastPathComponent()
    return url.path + "/Fixtures"
}()

/// One entry of Tests/Fixtures/images/index.json (made by make_image_fixtures.py).
struct ImageFixture: Decodable, CustomTestStringConvertible {
    var file: String
    var kind: String
    var width: Int
    var height: Int
    var channels: Int
    var bit_depth: Int

    var path: String { fixturesPath + "/images/" + file }
    var testDescription: String { file }

    /// The expected samples: uint8, or uint16 stored little-endian.
    func expected() throws -> DecodedImage.Samples {
        let raw = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path + ".raw")))
        if bit_depth == 16 {
            return .uint16(stride(from: 0, to: raw.count, by: 2).map { UInt16(raw[$0]) | UInt16(raw[$0 + 1]) << 8 })
        }
        return .uint8(raw)
    }
}

struct FixtureIndex: Decodable {
    var images: [ImageFixture]
    var hostile: [String]

    static let shared: FixtureIndex = {
        let data = try! Data(contentsOf: URL(fileURLWithPath: fixturesPath + "/images/index.json"))
        return try! JSONDecoder().decode(FixtureIndex.self, from: data)
    }()
}

import Testing

/// A minimal safetensors reader for the golden files (F32 tensors only).
struct SafeTensorsFile {
    var tensors: [String: (shape: [Int], values: [Float])] = [:]
    var metadata: [String: String] = [:]

    init(path: String) throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let headerLength = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try JSONSerialization.jsonObject(with: Data(bytes[8..<8 + headerLength])) as! [String: Any]
        let base = 8 + headerLength
        for (name, value) in header {
            let entry = value as! [String: Any]
            if name == "__metadata__" {
                metadata = entry as! [String: String]
                continue
            }
            guard entry["dtype"] as? String == "F32" else { continue }
            let shape = entry["shape"] as! [Int]
            let offsets = entry["data_offsets"] as! [Int]
            let count = (offsets[1] - offsets[0]) / 4
            let values = (0..<count).map { i -> Float in
                let at = base + offsets[0] + 4 * i
                return Float(bitPattern: UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24)
            }
            tensors[name] = (shape, values)
        }
    }
}

/// ‖a − b‖ / ‖b‖
func relativeError(_ a: [Float], _ b: [Float]) -> Double {
    var num = 0.0, den = 0.0
    for i in 0..<b.count {
        num += Double(a[i] - b[i]) * Double(a[i] - b[i])
        den += Double(b[i]) * Double(b[i])
    }
    return (num / max(den, 1e-30)).squareRoot()
}
