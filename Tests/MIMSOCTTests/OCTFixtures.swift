import Foundation
import MIMSShards
import MIMSTestSupport

func readFixture(_ name: String) throws -> [UInt8] {
    try [UInt8](Data(contentsOf: URL(fileURLWithPath: octFixtures + "/" + name)))
}

/// Runs Tests/Interop/oct_reference.py (numpy, independent of mims) and returns its JSON.
func numpyReference(_ arguments: [String]) throws -> [String: Any] {
    let output = try run(["python3", repositoryRoot + "/Tests/Interop/oct_reference.py"] + arguments)
    return try JSONSerialization.jsonObject(with: Data(output.utf8)) as! [String: Any]
}

func sha256(_ bytes: [UInt8]) -> String { SHA256.hex(of: bytes) }

/// The fuzz tests' mutation of a valid file: every fourth iteration a truncation at a random
/// offset (at least one byte goes), else 1 to `maxFlips` random bytes, three in four of them inside
/// a `hot` range (headers, chunk tables, where a parser reads sizes).
func fuzzMutation(of original: [UInt8], iteration: Int, hot: [Range<Int>], maxFlips: UInt64 = 4, random: inout TestRandom) -> [UInt8] {
    var bytes = original
    if iteration % 4 == 3 {
        bytes.removeLast(1 + Int(random.next() % UInt64(bytes.count - 1)))
    } else {
        for _ in 0..<(1 + random.next() % maxFlips) {
            let region = random.next() % 4 == 0 ? 0..<bytes.count : hot[Int(random.next() % UInt64(hot.count))]
            bytes[region.lowerBound + Int(random.next() % UInt64(region.count))] = UInt8(truncatingIfNeeded: random.next())
        }
    }
    return bytes
}
