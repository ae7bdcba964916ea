import Foundation
import MIMSImage
import MIMSOCT
import Testing

// Samples that the reader tests (MIMSOCTTests) and the inspect command tests (EndToEndTests) both write.

public let octFixtures: String = repositoryRoot + "/Tests/Fixtures/oct"

/// Runs Tests/Interop/topcon_reference.py (OCT-Converter, or a struct + Pillow writer of the
/// documented layout; no mims code) and returns its JSON.
public func topconReference(_ arguments: [String]) throws -> [String: Any] {
    let output = try run(["python3", repositoryRoot + "/Tests/Interop/topcon_reference.py"] + arguments)
    let last = output.split(separator: "\n").last.map(String.init) ?? ""
    return try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any], "\(output)")
}

public func randomSamples(_ count: Int, bits: Int, seed: UInt64) -> [UInt16] {
    var random = TestRandom(state: seed)
    return (0..<count).map { _ in UInt16(truncatingIfNeeded: random.next() & ((1 << UInt64(bits)) - 1)) }
}

/// A Spectralis-sized export: 25 B-scans of 512 x 496, a 768 x 768 localizer, two layer lines
/// with gaps (NaN) on every B-scan, left eye.
public func heyexRealSizeWriter(frames: Int = 25, width: Int = 512, height: Int = 496, seed: UInt64 = 5) -> HeyexXMLWriter {
    var random = TestRandom(state: seed)
    let bscans = (0..<frames).map { _ in
        Frame(width: width, height: height, channels: 1, pixels: (0..<width * height).map { _ in UInt8(truncatingIfNeeded: random.next()) })
    }
    let localizerPixels: [UInt8] = (0..<768 * 768).map { (i: Int) -> UInt8 in UInt8((i * 7 + i / 768) % 251) }
    let localizer = Frame(width: 768, height: 768, channels: 1, pixels: localizerPixels)
    var writer = HeyexXMLWriter(bscans: bscans, localizer: localizer)
    writer.patientID = "PAT & <7>"
    writer.laterality = "L"
    writer.seriesID = 4242
    writer.studyDate = (2019, 12, 31)
    writer.acquisitionTime = (0, 30, 5.25, 120)
    writer.scaleX = 0.011_34
    writer.scaleY = 0.003_87
    writer.distance = 0.2417
    writer.model = "Spectralis OCT2"
    writer.layers = (0..<frames).map { (f: Int) -> [(name: String, depths: [Float])] in
        let ilm: [Float] = (0..<width).map { (a: Int) -> Float in a % 53 == 0 ? Float.nan : Float(100 + (f + a) % 9) + 0.25 }
        let bm: [Float] = (0..<width).map { (a: Int) -> Float in a < 3 ? Float.nan : Float(400 - f) - 0.5 }
        return [(name: "ILM", depths: ilm), (name: "BM", depths: bm)]
    }
    return writer
}
