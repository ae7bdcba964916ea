import Foundation
import MIMSShards
import MIMSTestSupport

let octFixtures: String = repositoryRoot + "/Tests/Fixtures/oct"

func readFixture(_ name: String) throws -> [UInt8] {
    try [UInt8](Data(contentsOf: URL(fileURLWithPath: octFixtures + "/" + name)))
}

/// Runs Tests/Interop/oct_reference.py (numpy, independent of mims) and returns its JSON.
func numpyReference(_ arguments: [String]) throws -> [String: Any] {
    let output = try run(["python3", repositoryRoot + "/Tests/Interop/oct_reference.py"] + arguments)
    return try JSONSerialization.jsonObject(with: Data(output.utf8)) as! [String: Any]
}

func sha256(_ bytes: [UInt8]) -> String { SHA256.hex(of: bytes) }
