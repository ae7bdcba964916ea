/// What a Heidelberg Heyex XML export file describes, before any image is decoded: the patient,
/// study and series, and per `<Image>` its type, file, size, scale, position and layer lines.
///
/// Layout (`HEDX/BODY/Patient/Study/Series/Image`, as Heyex writes it and eyepy reads it):
/// `Patient/PatientID` (user-defined id), `Study/StudyDate/Date`, `Series/{ID, Laterality (R|L),
/// Type, GeneralEquipment, NumImages}`, and per image `ImageType/Type` (`OCT` = B-scan,
/// `LOCALIZER` = fundus), `OphthalmicAcquisitionContext/{Width, Height, ScaleX, ScaleY,
/// ImageQuality, Start/Coord, End/Coord}`, `ImageData/ExamURL` (a Windows path whose last
/// component names the file in the export folder) and `Segmentation/SegLine/{Name, Array}`.
public struct HeyexXMLExport: Sendable {
    public enum ImageKind: Equatable, Sendable {
        case bscan, localizer
        case other(String)
    }

    /// One `<Image>` element.
    public struct Image: Sendable {
        public var kind: ImageKind
        /// The file name in the export folder (the last component of ExamURL).
        public var fileName: String
        public var width: Int?
        public var height: Int?
        public var scaleX: Double?
        public var scaleY: Double?
        public var quality: Double?
        public var start: (x: Double, y: Double)?
        public var end: (x: Double, y: Double)?
        public var laterality: Laterality?
        /// Named layer lines, one depth (in pixels) per A-scan, NaN where Heyex marks none (3e38).
        public var layers: [(name: String, depths: [Float])]
        /// Line of the `<Image>` tag, for messages.
        public var line: Int
        /// Line of its ExamURL.
        public var urlLine: Int = 0
    }

    public var file: String
    public var patientID: String?
    /// Heyex's own series (exam) id.
    public var seriesID: String?
    public var studyID: String?
    public var laterality: Laterality?
    public var scanPattern: String?
    public var device: String?
    /// ISO 8601: the study date, with the first B-scan's acquisition time (converted to UTC) when
    /// the export records one.
    public var acquired: String?
    /// `Series/NumImages`, when present.
    public var declaredImageCount: Int?
    public var images: [Image]
    /// Things worth knowing that do not stop the read.
    public var warnings: [String]

    /// The most `<Image>` elements accepted (real volumes have up to a few hundred B-scans).
    public static let maxImages = 4096
    /// The largest width or height an image may declare.
    public static let maxSide = 16384

    public var bscans: [Image] { images.filter { $0.kind == .bscan } }

    /// Parses the document rooted at `root` (a `HEDX` element).
    static func parse(_ root: MarkupElement, file: String) throws -> HeyexXMLExport {
        func fail(_ element: MarkupElement, _ reason: String) -> OCTError {
            .markup(file: file, line: element.line, element: element.name, reason: reason)
        }
        guard root.name == "HEDX" else { throw fail(root, "the root element must be HEDX (a Heidelberg Heyex XML export)") }
        guard let body = root.child("BODY") else { throw fail(root, "no BODY element") }
        guard let patient = body.child("Patient") else { throw fail(body, "no Patient element") }
        let studies = patient.children("Study")
        guard let study = studies.first else { throw fail(patient, "no Study element") }
        let series = study.children("Series")
        guard let first = series.first else { throw fail(study, "no Series element") }
        var warnings: [String] = []
        // One export is one series; a second one would silently merge two scans into one volume.
        if studies.count > 1 || series.count > 1 {
            throw fail(series.count > 1 ? series[1] : studies[1], "the export holds \(studies.count) studies and \(series.count) series in the first; export one series per folder")
        }
        var export = HeyexXMLExport(file: file, images: [], warnings: [])
        export.patientID = patient.text(at: "PatientID")
        export.studyID = study.text(at: "ID")
        export.seriesID = first.text(at: "ID")
        export.scanPattern = first.text(at: "Type")
        let equipment = [first.text(at: "GeneralEquipment/Manufacturer"), first.text(at: "GeneralEquipment/ManufacturerModelName")].compactMap { $0 }
        export.device = equipment.isEmpty ? nil : equipment.joined(separator: " ")
        if let element = first.child("Laterality") {
            export.laterality = try laterality(element, file: file)
        }
        if let element = first.child("NumImages") {
            guard let count = Int(element.text), count >= 0 else { throw fail(element, "expected a number of images, found '\(element.text)'") }
            export.declaredImageCount = count
        }
        let imageElements = first.children("Image")
        guard imageElements.count <= maxImages else {
            throw fail(imageElements[maxImages], "more than \(maxImages) images in one series")
        }
        for element in imageElements {
            export.images.append(try image(element, file: file))
        }
        if let declared = export.declaredImageCount, declared != imageElements.count {
            warnings.append("Series/NumImages says \(declared) images, the series lists \(imageElements.count); the listed ones are read")
        }
        let bscans = export.bscans
        guard !bscans.isEmpty else { throw fail(first, "no Image of ImageType OCT: the export holds no B-scan") }
        // The series' laterality wins; images that disagree are named, never silently believed.
        let imageSides = Set(export.images.compactMap(\.laterality))
        if export.laterality == nil, imageSides.count == 1 { export.laterality = imageSides.first }
        if let side = export.laterality {
            for image in export.images where image.laterality != nil && image.laterality != side {
                warnings.append("image \(image.fileName) (line \(image.line)) says laterality \(image.laterality!.rawValue), the series \(side.rawValue); the series' is used")
            }
        } else if imageSides.count > 1 {
            warnings.append("the images disagree on laterality and the series records none; laterality left unknown")
        }
        for image in export.images {
            if case let .other(type) = image.kind {
                warnings.append("image \(image.fileName) (line \(image.line)) has ImageType \(type), neither OCT nor LOCALIZER; not read")
            }
        }
        if export.images.filter({ $0.kind == .localizer }).count > 1 {
            warnings.append("the series has \(export.images.filter { $0.kind == .localizer }.count) LOCALIZER images; the first is the fundus image")
        }
        export.acquired = acquired(study: study, firstBScan: first.children("Image").first { kind(of: $0) == .bscan })
        export.warnings = warnings
        return export
    }

    static func kind(of element: MarkupElement) -> ImageKind {
        switch element.text(at: "ImageType/Type")?.uppercased() {
        case "OCT": .bscan
        case "LOCALIZER": .localizer
        case let other: .other(other ?? "(none)")
        }
    }

    static func laterality(_ element: MarkupElement, file: String) throws -> Laterality? {
        switch element.text.uppercased() {
        case "R", "OD": .od
        case "L", "OS": .os
        case "": nil
        default:
            throw OCTError.markup(file: file, line: element.line, element: element.name, reason: "expected R or L (OD or OS), found '\(element.text)'")
        }
    }

    static func image(_ element: MarkupElement, file: String) throws -> Image {
        func fail(_ node: MarkupElement, _ reason: String) -> OCTError {
            .markup(file: file, line: node.line, element: node.name, reason: reason)
        }
        func number(_ path: String, in parent: MarkupElement) throws -> Double? {
            guard let node = parent.at(path), !node.text.isEmpty else { return nil }
            guard let value = Double(node.text), value.isFinite else { throw fail(node, "expected a number, found '\(node.text.prefix(40))'") }
            return value
        }
        func side(_ path: String, in parent: MarkupElement) throws -> Int? {
            guard let value = try number(path, in: parent) else { return nil }
            guard value == value.rounded(), value >= 1, value <= Double(maxSide) else {
                throw fail(parent.at(path)!, "expected a size of 1...\(maxSide) pixels, found \(value)")
            }
            return Int(value)
        }
        guard let url = element.at("ImageData/ExamURL") else { throw fail(element, "no ImageData/ExamURL naming the image file") }
        // ExamURL is a Windows path (file:///\\server\share\...\B1.tif); only its last component
        // is the file in the export folder. Anything else would reach outside the folder.
        let name = String(url.text.split(whereSeparator: { $0 == "\\" || $0 == "/" }).last ?? "")
        guard !name.isEmpty, name != ".", name != ".." else { throw fail(url, "ExamURL '\(url.text.prefix(80))' names no file") }
        let context = element.child("OphthalmicAcquisitionContext")
        var image = Image(kind: kind(of: element), fileName: name, layers: [], line: element.line, urlLine: url.line)
        if let context {
            image.width = try side("Width", in: context)
            image.height = try side("Height", in: context)
            image.scaleX = try number("ScaleX", in: context)
            image.scaleY = try number("ScaleY", in: context)
            image.quality = try number("ImageQuality", in: context)
            if let x = try number("Start/Coord/X", in: context), let y = try number("Start/Coord/Y", in: context) { image.start = (x, y) }
            if let x = try number("End/Coord/X", in: context), let y = try number("End/Coord/Y", in: context) { image.end = (x, y) }
        }
        if let element = element.child("Laterality") { image.laterality = try laterality(element, file: file) }
        for line in element.child("Segmentation")?.children("SegLine") ?? [] {
            guard let nameNode = line.child("Name"), !nameNode.text.isEmpty else { throw fail(line, "a SegLine without a Name") }
            guard let array = line.child("Array") else { throw fail(line, "SegLine \(nameNode.text) has no Array") }
            let bound = image.width ?? maxSide
            var depths: [Float] = []
            for token in array.text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }) {
                guard depths.count < bound else { throw fail(array, "SegLine \(nameNode.text) has more than \(bound) values") }
                guard let value = Float(token) else { throw fail(array, "SegLine \(nameNode.text): '\(token.prefix(20))' is not a number") }
                depths.append(value >= 3e38 || !value.isFinite ? .nan : value)
            }
            if let n = array.attributes["n"] {
                guard Int(n) == depths.count else { throw fail(array, "SegLine \(nameNode.text) declares n=\(n) values and holds \(depths.count)") }
            }
            image.layers.append((nameNode.text, depths))
        }
        return image
    }

    /// The study date and, when the first B-scan records it, its time of day moved to UTC by
    /// UTCBias (minutes the local clock is ahead of UTC).
    static func acquired(study: MarkupElement, firstBScan: MarkupElement?) -> String? {
        guard let date = study.at("StudyDate/Date"), let year = Int(date.text(at: "Year") ?? ""),
              let month = Int(date.text(at: "Month") ?? ""), let day = Int(date.text(at: "Day") ?? ""),
              (1...9999).contains(year), (1...12).contains(month), (1...31).contains(day) else { return nil }
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        guard let time = firstBScan?.at("AcquisitionTime/Time"), let hour = Int(time.text(at: "Hour") ?? ""),
              let minute = Int(time.text(at: "Minute") ?? ""), let second = Double(time.text(at: "Second") ?? ""),
              (0...23).contains(hour), (0...59).contains(minute), (0..<61).contains(second) else {
            return "\(year)-\(two(month))-\(two(day))"
        }
        let bias = Int(time.text(at: "UTCBias") ?? "") ?? 0
        guard (-24 * 60...24 * 60).contains(bias) else { return "\(year)-\(two(month))-\(two(day))" }
        let days = CivilTime.days(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60) + Int64(second) - Int64(bias * 60)
        return CivilTime.iso8601(unixSeconds: seconds)
    }
}

extension CivilTime {
    /// Days since 1970-01-01 of a proleptic Gregorian date (the inverse of `iso8601`'s arithmetic).
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
