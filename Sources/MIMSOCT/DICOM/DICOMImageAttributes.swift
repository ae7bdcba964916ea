/// The Image Pixel module of an OCT object as the structure walk found it, checked against what
/// this reader accepts and against the file before anything is decoded.
struct ImageAttributes {
    var rows: Int
    var columns: Int
    var frames: Int
    var bitsAllocated: Int
    var bitsStored: Int
    /// MONOCHROME1: the smallest value is white.
    var inverted: Bool
    var voxels: Int { rows * columns * frames }
    var sampleBytes: Int { voxels * bitsAllocated / 8 }

    init(_ structure: DICOMStructure, _ reader: ByteReader) throws {
        let file = reader.file
        func required(_ tag: UInt32, _ name: String) throws -> Int {
            guard let value = try structure.us(reader, tag, name) else {
                throw OCTError.inconsistent(file: file, reason: "no \(name) \(DICOMStructure.hex(tag)) in the data set")
            }
            return value
        }
        func invalid(_ tag: UInt32, _ name: String, _ value: Any, _ reason: String) -> OCTError {
            .invalidField(file: file, field: "\(name) \(DICOMStructure.hex(tag))", offset: structure.values[tag]?.offset ?? 0, value: "\(value)", reason: reason)
        }
        let samples = try required(0x0028_0002, "SamplesPerPixel")
        guard samples == 1 else { throw invalid(0x0028_0002, "SamplesPerPixel", samples, "an OCT B-scan has 1 sample per pixel") }
        let photometric = try structure.string(reader, 0x0028_0004, "PhotometricInterpretation") ?? ""
        guard photometric == "MONOCHROME1" || photometric == "MONOCHROME2" else {
            throw invalid(0x0028_0004, "PhotometricInterpretation", photometric.isEmpty ? "absent" : photometric, "expected MONOCHROME1 or MONOCHROME2")
        }
        inverted = photometric == "MONOCHROME1"
        rows = try required(0x0028_0010, "Rows")
        columns = try required(0x0028_0011, "Columns")
        guard rows > 0 else { throw invalid(0x0028_0010, "Rows", rows, "expected at least 1") }
        guard columns > 0 else { throw invalid(0x0028_0011, "Columns", columns, "expected at least 1") }
        if let text = try structure.string(reader, 0x0028_0008, "NumberOfFrames") {
            guard let value = Int(text), value > 0, value <= 1 << 20 else {
                throw invalid(0x0028_0008, "NumberOfFrames", text, "expected a whole number from 1 to \(1 << 20)")
            }
            frames = value
        } else {
            frames = 1
        }
        bitsAllocated = try required(0x0028_0100, "BitsAllocated")
        guard bitsAllocated == 8 || bitsAllocated == 16 else { throw invalid(0x0028_0100, "BitsAllocated", bitsAllocated, "expected 8 or 16") }
        bitsStored = try required(0x0028_0101, "BitsStored")
        guard (1...bitsAllocated).contains(bitsStored) else { throw invalid(0x0028_0101, "BitsStored", bitsStored, "expected 1 to BitsAllocated (\(bitsAllocated))") }
        let highBit = try required(0x0028_0102, "HighBit")
        guard highBit == bitsStored - 1 else { throw invalid(0x0028_0102, "HighBit", highBit, "expected BitsStored - 1 (\(bitsStored - 1))") }
        let representation = try structure.us(reader, 0x0028_0103, "PixelRepresentation") ?? 0
        guard representation == 0 else { throw invalid(0x0028_0103, "PixelRepresentation", representation, "OCT samples are unsigned (0)") }

        guard voxels <= DICOMOPTReader.maxVoxels else {
            throw OCTError.invalidField(file: file, field: "Rows x Columns x NumberOfFrames", offset: structure.values[0x0028_0010]?.offset ?? 0,
                                        value: "\(rows) x \(columns) x \(frames)", reason: "more than the \(DICOMOPTReader.maxVoxels >> 20) Mi voxels this reader allocates for one volume")
        }
        guard let pixelOffset = structure.pixelDataOffset else {
            throw OCTError.inconsistent(file: file, reason: "no PixelData (7FE0,0010) in the data set")
        }
        if structure.encoding == .encapsulated {
            // PS3.5 A.4: every frame is one or more fragments, so a header cannot claim more frames
            // than the file carries fragments.
            guard structure.fragments >= frames else {
                throw OCTError.inconsistent(file: file, reason: "NumberOfFrames is \(frames) but the encapsulated pixel data at offset \(pixelOffset) has \(structure.fragments) fragment\(structure.fragments == 1 ? "" : "s")")
            }
            if structure.transferSyntax == "1.2.840.10008.1.2.5" {
                try Self.checkRLE(structure, reader, frames: frames, segments: bitsAllocated / 8)
            }
        } else if structure.pixelDataLength < sampleBytes {
            throw OCTError.truncated(file: file, offset: pixelOffset, needed: sampleBytes, available: structure.pixelDataLength,
                                     what: "native pixel data of \(frames) frames x \(rows) rows x \(columns) columns x \(bitsAllocated) bits")
        }
    }

    /// RLE Lossless (PS3.5 Annex G): one fragment per frame, each starting with a 64-byte header of
    /// the segment count (one per byte of a sample) and ascending segment offsets inside the
    /// fragment. GDCM's RLE decoder trusts that header (a wrong count crashes it), so it is checked here.
    static func checkRLE(_ structure: DICOMStructure, _ reader: ByteReader, frames: Int, segments: Int) throws {
        guard structure.fragments == frames else {
            throw OCTError.inconsistent(file: reader.file, reason: "RLE Lossless has one fragment per frame, but \(frames) frames came in \(structure.fragments) fragments")
        }
        for (index, range) in structure.fragmentRanges.enumerated() {
            try reader.require(range.lowerBound, 64, "RLE header of frame \(index)")
            guard range.count >= 64 else {
                throw OCTError.truncated(file: reader.file, offset: range.lowerBound, needed: 64, available: range.count, what: "RLE header of frame \(index)")
            }
            let count = Int(try reader.u32(range.lowerBound, "RLE segment count"))
            guard count == segments else {
                throw OCTError.invalidField(file: reader.file, field: "RLE segment count of frame \(index)", offset: range.lowerBound, value: "\(count)",
                                            reason: "expected \(segments) (one per byte of a sample)")
            }
            var previous = 63
            for segment in 0..<15 {
                let offset = Int(try reader.u32(range.lowerBound + 4 + 4 * segment, "RLE segment offset"))
                if segment < count {
                    guard offset > previous, offset < range.count, segment > 0 || offset == 64 else {
                        throw OCTError.invalidField(file: reader.file, field: "RLE segment \(segment) offset of frame \(index)", offset: range.lowerBound + 4 + 4 * segment,
                                                    value: "\(offset)", reason: "expected \(segment == 0 ? "64" : "an offset after \(previous) and inside the \(range.count)-byte fragment")")
                    }
                    previous = offset
                } else if offset != 0 {
                    throw OCTError.invalidField(file: reader.file, field: "RLE segment \(segment) offset of frame \(index)", offset: range.lowerBound + 4 + 4 * segment,
                                                value: "\(offset)", reason: "expected 0 after the \(count) segments")
                }
            }
        }
    }
}
