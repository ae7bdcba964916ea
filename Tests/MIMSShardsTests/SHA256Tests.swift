import Foundation
import MIMSTestSupport
import CKernels
import Testing
@testable import MIMSShards

struct SHA256Tests {
    // FIPS 180-4 example vectors.
    @Test func knownVectors() {
        #expect(SHA256.hex(of: Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(of: []) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(of: Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func streamingEqualsOneShot() {
        var random = TestRandom(state: 7)
        let data = random.bytes(1000)
        var hasher = SHA256()
        for piece in stride(from: 0, to: data.count, by: 37) {
            hasher.update(Array(data[piece..<min(piece + 37, data.count)]))
        }
        #expect(hasher.finalizeHex() == SHA256.hex(of: data))
    }

    /// Against Python's hashlib (OpenSSL), at lengths around the block and padding boundaries.
    @Test func matchesHashlib() throws {
        var random = TestRandom(state: 3)
        let data = random.bytes(300_000)
        let lengths = [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 65_537, 300_000]
        let script = "import sys,hashlib;d=sys.stdin.buffer.read();print(' '.join(hashlib.sha256(d[:int(n)]).hexdigest() for n in sys.argv[1:]))"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + lengths.map(String.init)
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(data))
        try input.fileHandleForWriting.close()
        let expected = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: " ").map {
            $0.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        process.waitUntilExit()
        #expect(lengths.map { SHA256.hex(of: Array(data[0..<$0])) } == expected)
    }

    /// The portable block function agrees with the one this CPU uses (SHA extensions here).
    @Test func portableAndAcceleratedAgree() {
        var random = TestRandom(state: 4)
        let data = random.bytes(64 * 50)
        var a: [UInt32] = [1, 2, 3, 4, 5, 6, 7, 8], b = a
        data.withUnsafeBufferPointer { mims_sha256_blocks(&a, $0.baseAddress, 50) }
        data.withUnsafeBufferPointer { mims_sha256_blocks_portable(&b, $0.baseAddress, 50) }
        #expect(a == b)
    }
}
