/// Writes Spectralis `.vol` files in the documented layout, for tests and synthetic datasets.
public struct SpectralisVolWriter {
    public var sizeX: Int
    public var sizeZ: Int
    /// Float intensities in [0, 1] (or 0x7F7FFFFF for invalid), `numBScans * sizeZ * sizeX`.
    public var intensities: [Float]
    public var slo: [UInt8]
    public var sizeXSlo: Int
    public var sizeYSlo: Int
    public var scale = (x: 0.0115, z: 0.0039, distance: 0.12)
    public var scanPosition = "OD"
    public var scanPattern: Int32 = 3
    public var patientID = "PAT-0001"
    public var visitID = "V1"
    public var examTime: UInt64 = 131_286_184_616_218_310
    public var bscanHeaderSize = 256 + 3 * 4 * 1024
    /// Layer lines per B-scan (NumSeg = count), each `sizeX` long.
    public var layers: [[[Float]]] = []
    public var trailingBytes = 0

    public init(sizeX: Int, sizeZ: Int, intensities: [Float], slo: [UInt8] = [], sizeXSlo: Int = 0, sizeYSlo: Int = 0) {
        self.sizeX = sizeX
        self.sizeZ = sizeZ
        self.intensities = intensities
        self.slo = slo
        self.sizeXSlo = sizeXSlo
        self.sizeYSlo = sizeYSlo
        bscanHeaderSize = max(256 + 3 * 4 * sizeX, 1024)
    }

    public var numBScans: Int { intensities.count / (sizeX * sizeZ) }

    public func bytes() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 2048)
        func put(_ value: some FixedWidthInteger, at offset: Int, in buffer: inout [UInt8]) {
            withUnsafeBytes(of: value.littleEndian) { buffer.replaceSubrange(offset..<offset + $0.count, with: $0) }
        }
        func putDouble(_ value: Double, at offset: Int, in buffer: inout [UInt8]) { put(value.bitPattern, at: offset, in: &buffer) }
        func putString(_ value: String, at offset: Int, width: Int, in buffer: inout [UInt8]) {
            let bytes = Array(value.utf8.prefix(width - 1))
            buffer.replaceSubrange(offset..<offset + bytes.count, with: bytes)
        }
        putString("HSF-OCT-103", at: 0, width: 12, in: &out)
        put(UInt32(sizeX), at: 12, in: &out)
        put(UInt32(numBScans), at: 16, in: &out)
        put(UInt32(sizeZ), at: 20, in: &out)
        putDouble(scale.x, at: 24, in: &out)
        putDouble(scale.distance, at: 32, in: &out)
        putDouble(scale.z, at: 40, in: &out)
        put(UInt32(sizeXSlo), at: 48, in: &out)
        put(UInt32(sizeYSlo), at: 52, in: &out)
        putDouble(0.0117, at: 56, in: &out)
        putDouble(0.0117, at: 64, in: &out)
        put(UInt32(30), at: 72, in: &out)
        putString(scanPosition, at: 84, width: 4, in: &out)
        put(examTime, at: 88, in: &out)
        put(scanPattern, at: 96, in: &out)
        put(UInt32(bscanHeaderSize), at: 100, in: &out)
        putString("4711", at: 104, width: 16, in: &out)
        put(UInt32(86), at: 136, in: &out)
        putString(patientID, at: 140, width: 21, in: &out)
        putDouble(18904, at: 164, in: &out)
        put(UInt32(145), at: 172, in: &out)
        putString(visitID, at: 176, width: 24, in: &out)
        putDouble(42746.6, at: 200, in: &out)
        out += slo
        let frameSize = sizeX * sizeZ
        for index in 0..<numBScans {
            var header = [UInt8](repeating: 0, count: bscanHeaderSize)
            putString("HSF-BS-103", at: 0, width: 12, in: &header)
            put(UInt32(bscanHeaderSize), at: 12, in: &header)
            putDouble(0, at: 16, in: &header)
            putDouble(Double(index) * scale.distance, at: 24, in: &header)
            putDouble(Double(sizeX) * scale.x, at: 32, in: &header)
            putDouble(Double(index) * scale.distance, at: 40, in: &header)
            let lines = index < layers.count ? layers[index] : []
            put(UInt32(lines.count), at: 48, in: &header)
            put(UInt32(256), at: 52, in: &header)
            put(Float(30 + index).bitPattern, at: 56, in: &header)
            for (line, values) in lines.enumerated() {
                for (x, value) in values.enumerated() { put(value.bitPattern, at: 256 + 4 * (line * sizeX + x), in: &header) }
            }
            out += header
            out.reserveCapacity(out.count + 4 * frameSize)
            for value in intensities[index * frameSize..<(index + 1) * frameSize] {
                withUnsafeBytes(of: value.bitPattern.littleEndian) { out.append(contentsOf: $0) }
            }
        }
        out += [UInt8](repeating: 0xAB, count: trailingBytes)
        return out
    }
}
