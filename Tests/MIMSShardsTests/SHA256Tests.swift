import MIMSTestSupport
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
}
