/// The first bytes of each compressed frame, checked against the image header before a codec runs.
///
/// GDCM's JPEG 2000 codec copies what OpenJPEG decodes into a buffer sized from the DICOM header,
/// trusting the codestream's own dimensions and precision: a frame that claims more corrupts the
/// heap. So each frame's SIZ (JPEG 2000) or SOF (JPEG, JPEG-LS) must describe exactly the header's
/// columns, rows and one component of at most BitsAllocated bits. RLE headers are checked in
/// ``ImageAttributes/checkRLE(_:_:frames:segments:)``.
enum DICOMCodestreams {
    static func check(_ structure: DICOMStructure, _ reader: ByteReader, _ image: ImageAttributes) throws {
        let syntax = structure.transferSyntax
        let jpeg2000 = syntax == "1.2.840.10008.1.2.4.90" || syntax == "1.2.840.10008.1.2.4.91"
        let jpeg = syntax.hasPrefix("1.2.840.10008.1.2.4.5") || syntax.hasPrefix("1.2.840.10008.1.2.4.7") || syntax.hasPrefix("1.2.840.10008.1.2.4.8")
        guard jpeg2000 || jpeg else { return }
        let start: [UInt8] = jpeg2000 ? [0xFF, 0x4F] : [0xFF, 0xD8]
        let frameStarts = structure.fragmentRanges.filter { $0.count >= 2 && reader.hasPrefix(start, at: $0.lowerBound) }
        guard frameStarts.count == image.frames, let first = structure.fragmentRanges.first, reader.hasPrefix(start, at: first.lowerBound) else {
            throw OCTError.inconsistent(file: reader.file, reason: "\(image.frames) frames, but \(frameStarts.count) of the \(structure.fragments) pixel data fragments start a \(jpeg2000 ? "JPEG 2000 codestream (FF4F)" : "JPEG stream (FFD8)")"
                                        + (jpeg2000 ? " (a JP2 file header is not allowed in DICOM)" : ""))
        }
        for (index, fragment) in frameStarts.enumerated() {
            let (columns, rows, components, precision, offset) = jpeg2000
                ? try siz(reader, fragment, frame: index) : try sof(reader, fragment, frame: index)
            guard columns == image.columns, rows == image.rows, components == 1, (1...image.bitsAllocated).contains(precision) else {
                throw OCTError.invalidField(file: reader.file, field: "\(jpeg2000 ? "SIZ" : "SOF") of frame \(index)", offset: offset,
                                            value: "\(columns) x \(rows), \(components) component\(components == 1 ? "" : "s") of \(precision) bits",
                                            reason: "expected the header's \(image.columns) columns x \(image.rows) rows, 1 component of at most \(image.bitsAllocated) bits")
            }
        }
    }

    /// JPEG 2000 SIZ: it must follow SOC directly (ISO 15444-1 A.5.1).
    private static func siz(_ reader: ByteReader, _ fragment: Range<Int>, frame: Int) throws -> (Int, Int, Int, Int, Int) {
        let at = fragment.lowerBound + 2
        guard fragment.count >= 2 + 41 + 3, try reader.u16be(at, "SIZ marker") == 0xFF51 else {
            throw OCTError.badMagic(file: reader.file, offset: at, expected: "the SIZ marker (FF51) after SOC in frame \(frame)", found: reader.preview(at, 2))
        }
        let x = Int(try reader.u32be(at + 6, "Xsiz")) - Int(try reader.u32be(at + 14, "XOsiz"))
        let y = Int(try reader.u32be(at + 10, "Ysiz")) - Int(try reader.u32be(at + 18, "YOsiz"))
        let components = Int(try reader.u16be(at + 38, "Csiz"))
        let ssiz = Int(try reader.u8(at + 40, "Ssiz"))
        let subsampled = try reader.u8(at + 41, "XRsiz") != 1 || reader.u8(at + 42, "YRsiz") != 1
        // A signed component (bit 7) or subsampling counts as a mismatch: OCT samples are unsigned, full size.
        return (x, y, components, ssiz & 0x80 != 0 || subsampled ? 99 : (ssiz & 0x7F) + 1, at)
    }

    /// The start of frame (SOF0-15 but DHT, JPG and DAC; JPEG-LS SOF55) after SOI, skipping
    /// the marker segments before it.
    private static func sof(_ reader: ByteReader, _ fragment: Range<Int>, frame: Int) throws -> (Int, Int, Int, Int, Int) {
        var at = fragment.lowerBound + 2
        while at + 4 <= fragment.upperBound {
            let marker = try reader.u16be(at, "JPEG marker")
            guard marker >> 8 == 0xFF else { break }
            let length = Int(try reader.u16be(at + 2, "JPEG marker length"))
            let isSOF = (0xFFC0...0xFFCF).contains(marker) && ![0xFFC4, 0xFFC8, 0xFFCC].contains(marker) || marker == 0xFFF7
            if isSOF {
                guard length >= 8, at + 2 + length <= fragment.upperBound else { break }
                return (Int(try reader.u16be(at + 7, "SOF columns")), Int(try reader.u16be(at + 5, "SOF rows")),
                        Int(try reader.u8(at + 9, "SOF components")), Int(try reader.u8(at + 4, "SOF precision")), at)
            }
            guard length >= 2 else { break }
            at += 2 + length
        }
        throw OCTError.badMagic(file: reader.file, offset: fragment.lowerBound, expected: "a JPEG start of frame (SOF) in the first fragment of frame \(frame)", found: reader.preview(at, 4))
    }
}
