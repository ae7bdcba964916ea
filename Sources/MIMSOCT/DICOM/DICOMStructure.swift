/// The structure of a DICOM file, checked element by element before the DICOM library sees it.
///
/// GDCM sizes its buffers from the length fields it reads and asserts on structures it does not
/// expect, so a hostile length would make it allocate (and zero) up to 4 GiB, and a broken nesting
/// could abort the process. This walk proves every length fits inside its enclosing item and the
/// file, every nesting closes, tags ascend and VRs are known, and it picks up the few top-level
/// attributes the size checks need. Anything else is left to the library.
struct DICOMStructure {
    /// How the data set after the file meta information is encoded.
    enum Encoding: Equatable {
        case implicitLittle, explicitLittle
        /// Explicit VR little endian with encapsulated (compressed) pixel data.
        case encapsulated
    }

    /// (0002,0010) TransferSyntaxUID.
    var transferSyntax: String
    var encoding: Encoding
    /// (0008,0016) SOPClassUID, else the meta information's (0002,0002), and where it was found.
    var sopClass: String?
    var sopClassOffset: Int = 0
    /// Offset and length of each top-level element's value, by tag (group << 16 | element).
    var values: [UInt32: (offset: Int, length: Int)] = [:]
    /// (7FE0,0010): offset of its value, and for encapsulated data the number of fragments
    /// (the basic offset table excluded) and their total length.
    var pixelDataOffset: Int?
    var pixelDataLength = 0
    var fragments = 0
    /// Where each fragment's bytes are (the basic offset table excluded).
    var fragmentRanges: [Range<Int>] = []

    static let pixelData: UInt32 = 0x7FE0_0010
    static let maxDepth = 16

    /// Transfer syntaxes GDCM decodes that are read here: name by UID.
    static let supportedSyntaxes: [String: String] = [
        "1.2.840.10008.1.2": "Implicit VR Little Endian",
        "1.2.840.10008.1.2.1": "Explicit VR Little Endian",
        "1.2.840.10008.1.2.4.50": "JPEG Baseline (Process 1)",
        "1.2.840.10008.1.2.4.51": "JPEG Extended (Process 2 & 4)",
        "1.2.840.10008.1.2.4.57": "JPEG Lossless, Non-Hierarchical (Process 14)",
        "1.2.840.10008.1.2.4.70": "JPEG Lossless, First-Order Prediction (Process 14, SV1)",
        "1.2.840.10008.1.2.4.80": "JPEG-LS Lossless",
        "1.2.840.10008.1.2.4.81": "JPEG-LS Near-Lossless",
        "1.2.840.10008.1.2.4.90": "JPEG 2000 (Lossless Only)",
        "1.2.840.10008.1.2.4.91": "JPEG 2000",
        "1.2.840.10008.1.2.5": "RLE Lossless",
    ]

    /// Value representations whose explicit-VR header has a 4-byte length (PS3.5 7.1.2).
    private static let longVRs: Set<String> = ["OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"]
    private static let shortVRs: Set<String> = ["AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT", "PN",
                                                "SH", "SL", "SS", "ST", "TM", "UI", "UL", "US"]

    /// Checks the whole file. Throws `OCTError` naming the offset of the first problem.
    static func parse(_ reader: ByteReader) throws -> DICOMStructure {
        guard reader.hasPrefix(Array("DICM".utf8), at: 128) else {
            throw OCTError.badMagic(file: reader.file, offset: 128, expected: "\"DICM\" (DICOM Part 10 file after the 128-byte preamble)",
                                    found: reader.preview(128, 4))
        }
        var walker = Walker(reader: reader)
        // File meta information: always explicit VR little endian, group 0002.
        var offset = 132
        var meta: [UInt32: (offset: Int, length: Int)] = [:]
        while offset + 8 <= reader.count, try reader.u16(offset, "meta element group") == 0x0002 {
            let element = try walker.header(at: offset, explicit: true, limit: reader.count)
            guard element.length != Walker.undefined else {
                throw OCTError.invalidField(file: reader.file, field: "meta element \(hex(element.tag)) length", offset: offset + 8,
                                            value: "undefined", reason: "file meta elements need a defined length")
            }
            meta[element.tag] = (element.valueOffset, element.length)
            offset = element.valueOffset + element.length
        }
        guard let syntaxField = meta[0x0002_0010] else {
            throw OCTError.inconsistent(file: reader.file, reason: "no TransferSyntaxUID (0002,0010) in the file meta information at offset 132")
        }
        let syntax = try text(reader, syntaxField, "TransferSyntaxUID")
        let encoding: Encoding
        switch syntax {
        case "1.2.840.10008.1.2": encoding = .implicitLittle
        case "1.2.840.10008.1.2.1": encoding = .explicitLittle
        case _ where supportedSyntaxes[syntax] != nil: encoding = .encapsulated
        default:
            let known = ["1.2.840.10008.1.2.1.99": "Deflated Explicit VR Little Endian", "1.2.840.10008.1.2.2": "Explicit VR Big Endian (retired)"]
            throw OCTError.invalidField(file: reader.file, field: "TransferSyntaxUID (0002,0010)", offset: syntaxField.offset,
                                        value: syntax + (known[syntax].map { " (\($0))" } ?? ""),
                                        reason: "not a transfer syntax this reader decodes; expected one of " + supportedSyntaxes.keys.sorted().joined(separator: ", "))
        }
        var structure = DICOMStructure(transferSyntax: syntax, encoding: encoding)
        walker.explicit = encoding != .implicitLittle
        walker.encapsulated = encoding == .encapsulated
        _ = try walker.dataSet(from: offset, end: reader.count, delimited: false, depth: 0, topLevel: true)
        structure.values = walker.top
        structure.pixelDataOffset = walker.pixelDataOffset
        structure.pixelDataLength = walker.pixelDataLength
        structure.fragments = walker.fragments
        structure.fragmentRanges = walker.fragmentRanges
        if let field = walker.top[0x0008_0016] {
            structure.sopClass = try text(reader, field, "SOPClassUID")
            structure.sopClassOffset = field.offset
        } else if let field = meta[0x0002_0002] {
            structure.sopClass = try text(reader, field, "MediaStorageSOPClassUID")
            structure.sopClassOffset = field.offset
        }
        return structure
    }

    /// A top-level US value (implicit or explicit VR alike), nil when absent.
    func us(_ reader: ByteReader, _ tag: UInt32, _ name: String) throws -> Int? {
        guard let field = values[tag] else { return nil }
        guard field.length == 2 else {
            throw OCTError.invalidField(file: reader.file, field: "\(name) \(Self.hex(tag))", offset: field.offset, value: "\(field.length) bytes", reason: "expected one US value (2 bytes)")
        }
        return Int(try reader.u16(field.offset, name))
    }

    /// A top-level text value, trimmed of padding; nil when absent.
    func string(_ reader: ByteReader, _ tag: UInt32, _ name: String) throws -> String? {
        guard let field = values[tag] else { return nil }
        return try Self.text(reader, field, name)
    }

    static func text(_ reader: ByteReader, _ field: (offset: Int, length: Int), _ name: String) throws -> String {
        guard field.length <= 1024 else {
            throw OCTError.invalidField(file: reader.file, field: name, offset: field.offset, value: "\(field.length) bytes", reason: "expected a short text value")
        }
        var value = try reader.string(field.offset, field.length, name)
        while value.hasSuffix("\0") || value.hasSuffix(" ") { value.removeLast() }
        return value
    }

    static func hex(_ tag: UInt32) -> String {
        func four(_ v: UInt32) -> String { let s = String(v, radix: 16, uppercase: true); return String(repeating: "0", count: 4 - s.count) + s }
        return "(\(four(tag >> 16)),\(four(tag & 0xFFFF)))"
    }

    /// The element-by-element walk.
    private struct Walker {
        static let undefined = Int(UInt32.max)
        let reader: ByteReader
        var explicit = true
        var encapsulated = false
        var top: [UInt32: (offset: Int, length: Int)] = [:]
        var pixelDataOffset: Int?
        var pixelDataLength = 0
        var fragments = 0
        var fragmentRanges: [Range<Int>] = []

        init(reader: ByteReader) { self.reader = reader }

        struct Element {
            var tag: UInt32
            var vr: String?
            var length: Int
            var valueOffset: Int
        }

        func tag(at offset: Int) throws -> UInt32 {
            UInt32(try reader.u16(offset, "element group")) << 16 | UInt32(try reader.u16(offset + 2, "element number"))
        }

        /// The element header at `offset`; a defined length must fit before `limit`.
        func header(at offset: Int, explicit: Bool, limit: Int) throws -> Element {
            try reader.require(offset, 8, "DICOM element header")
            let tag = try tag(at: offset)
            var element: Element
            if tag >> 16 == 0xFFFE || !explicit {
                element = Element(tag: tag, vr: nil, length: Int(try reader.u32(offset + 4, "element length")), valueOffset: offset + 8)
            } else {
                let vr = String(decoding: [try reader.u8(offset + 4, "VR"), try reader.u8(offset + 5, "VR")], as: UTF8.self)
                if DICOMStructure.longVRs.contains(vr) {
                    element = Element(tag: tag, vr: vr, length: Int(try reader.u32(offset + 8, "element length")), valueOffset: offset + 12)
                } else if DICOMStructure.shortVRs.contains(vr) {
                    element = Element(tag: tag, vr: vr, length: Int(try reader.u16(offset + 6, "element length")), valueOffset: offset + 8)
                } else {
                    throw OCTError.invalidField(file: reader.file, field: "VR of \(DICOMStructure.hex(tag))", offset: offset + 4,
                                                value: reader.preview(offset + 4, 2), reason: "not a DICOM value representation")
                }
            }
            if element.length != Self.undefined {
                guard element.valueOffset <= limit, element.length <= limit - element.valueOffset else {
                    let what = "value of \(DICOMStructure.hex(tag))" + (limit < reader.count ? " (inside its item)" : "")
                    throw OCTError.truncated(file: reader.file, offset: element.valueOffset, needed: element.length,
                                             available: max(0, limit - element.valueOffset), what: what)
                }
            }
            return element
        }

        /// Elements from `offset` up to `end`, or up to an item delimiter when `delimited`.
        /// Returns the offset after the data set (after its delimiter).
        mutating func dataSet(from start: Int, end: Int, delimited: Bool, depth: Int, topLevel: Bool) throws -> Int {
            guard depth <= DICOMStructure.maxDepth else {
                throw OCTError.inconsistent(file: reader.file, reason: "sequences nest deeper than \(DICOMStructure.maxDepth) levels at offset \(start)")
            }
            var offset = start
            var previous: UInt32?
            while offset < end {
                if topLevel && end - offset < 8 && allPadding(offset, end) { return end }
                let element = try header(at: offset, explicit: explicit, limit: end)
                if element.tag == 0xFFFE_E00D {
                    guard delimited else {
                        throw OCTError.inconsistent(file: reader.file, reason: "item delimiter (FFFE,E00D) at offset \(offset) outside an item of undefined length")
                    }
                    return element.valueOffset
                }
                guard element.tag >> 16 != 0xFFFE else {
                    throw OCTError.inconsistent(file: reader.file, reason: "item tag \(DICOMStructure.hex(element.tag)) at offset \(offset) where a data element was expected")
                }
                if let previous, element.tag <= previous {
                    throw OCTError.inconsistent(file: reader.file, reason: "element \(DICOMStructure.hex(element.tag)) at offset \(offset) does not follow \(DICOMStructure.hex(previous)) in ascending order")
                }
                previous = element.tag
                let isPixelData = topLevel && element.tag == DICOMStructure.pixelData
                var next: Int
                if element.length == Self.undefined {
                    if isPixelData {
                        guard encapsulated else {
                            throw OCTError.invalidField(file: reader.file, field: "PixelData (7FE0,0010) length", offset: element.valueOffset - 4, value: "undefined",
                                                        reason: "undefined length (encapsulated pixel data) needs a compressed transfer syntax")
                        }
                        pixelDataOffset = element.valueOffset
                        next = try fragmentsFrom(element.valueOffset, end: end)
                    } else {
                        if let vr = element.vr, vr != "SQ", vr != "UN" {
                            throw OCTError.invalidField(file: reader.file, field: "length of \(DICOMStructure.hex(element.tag))", offset: element.valueOffset - 4,
                                                        value: "undefined", reason: "only sequences (SQ, UN) may have an undefined length, not \(vr)")
                        }
                        // An undefined-length UN holds implicit VR items (PS3.5 6.2.2, CP-246).
                        let saved = explicit
                        if element.vr == "UN" { explicit = false }
                        defer { explicit = saved }
                        next = try sequence(from: element.valueOffset, end: end, delimited: true, depth: depth + 1)
                    }
                } else {
                    next = element.valueOffset + element.length
                    if isPixelData {
                        guard !encapsulated else {
                            throw OCTError.invalidField(file: reader.file, field: "PixelData (7FE0,0010) length", offset: element.valueOffset - 4, value: "\(element.length)",
                                                        reason: "a compressed transfer syntax needs encapsulated pixel data (undefined length)")
                        }
                        pixelDataOffset = element.valueOffset
                        pixelDataLength = element.length
                    } else if element.vr == "SQ" || (element.vr == nil && looksLikeItems(element)) {
                        _ = try sequence(from: element.valueOffset, end: next, delimited: false, depth: depth + 1)
                    }
                }
                if topLevel { top[element.tag] = (element.valueOffset, element.length == Self.undefined ? 0 : element.length) }
                offset = next
            }
            if delimited {
                throw OCTError.truncated(file: reader.file, offset: offset, needed: 8, available: 0, what: "item delimiter (FFFE,E00D) of the item that starts at offset \(start)")
            }
            return offset
        }

        /// Implicit VR has no VR to tell a sequence: a value that starts with an item tag is
        /// walked as one, since the library's dictionary will parse it so.
        func looksLikeItems(_ element: Element) -> Bool {
            element.length >= 8 && (try? tag(at: element.valueOffset)) == 0xFFFE_E000
        }

        func allPadding(_ offset: Int, _ end: Int) -> Bool {
            (offset..<end).allSatisfy { reader.bytes[$0] == 0 }
        }

        /// Items from `start` up to `end`, or up to a sequence delimiter when `delimited`.
        mutating func sequence(from start: Int, end: Int, delimited: Bool, depth: Int) throws -> Int {
            var offset = start
            while offset < end {
                let item = try header(at: offset, explicit: explicit, limit: end)
                switch item.tag {
                case 0xFFFE_E0DD where delimited:
                    return item.valueOffset
                case 0xFFFE_E000:
                    if item.length == Self.undefined {
                        offset = try dataSet(from: item.valueOffset, end: end, delimited: true, depth: depth, topLevel: false)
                    } else {
                        let itemEnd = item.valueOffset + item.length
                        offset = try dataSet(from: item.valueOffset, end: itemEnd, delimited: false, depth: depth, topLevel: false)
                    }
                default:
                    throw OCTError.badMagic(file: reader.file, offset: offset, expected: delimited ? "an item (FFFE,E000) or sequence delimiter (FFFE,E0DD)" : "an item (FFFE,E000)",
                                            found: DICOMStructure.hex(item.tag))
                }
            }
            if delimited {
                throw OCTError.truncated(file: reader.file, offset: offset, needed: 8, available: 0, what: "sequence delimiter (FFFE,E0DD) of the sequence that starts at offset \(start)")
            }
            return offset
        }

        /// Encapsulated pixel data: the basic offset table item, fragment items of defined length,
        /// then the sequence delimiter.
        mutating func fragmentsFrom(_ start: Int, end: Int) throws -> Int {
            var offset = start
            var index = 0
            while true {
                let item = try header(at: offset, explicit: true, limit: end)
                switch item.tag {
                case 0xFFFE_E0DD:
                    guard index > 0 else {
                        throw OCTError.inconsistent(file: reader.file, reason: "encapsulated pixel data at offset \(start) has no basic offset table item")
                    }
                    return item.valueOffset
                case 0xFFFE_E000 where item.length != Self.undefined:
                    if index > 0 {
                        fragments += 1
                        pixelDataLength += item.length
                        fragmentRanges.append(item.valueOffset..<item.valueOffset + item.length)
                    }
                    index += 1
                    offset = item.valueOffset + item.length
                default:
                    throw OCTError.badMagic(file: reader.file, offset: offset, expected: "a pixel data fragment (FFFE,E000) of defined length or the sequence delimiter (FFFE,E0DD)",
                                            found: DICOMStructure.hex(item.tag) + (item.length == Self.undefined ? " of undefined length" : ""))
                }
            }
        }
    }
}
