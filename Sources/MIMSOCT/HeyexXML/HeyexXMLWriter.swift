import Foundation
import MIMSImage

/// Writes Heyex XML export folders in the layout ``HeyexXMLExport`` documents (the element names
/// of Heidelberg's exports as eyepy reads them): an XML file naming one PNG per B-scan and a
/// localizer. For tests and synthetic data; every field a reader looks at can be set, including
/// wrong ones (a `NumImages` that miscounts, per-image laterality that disagrees).
public struct HeyexXMLWriter {
    /// Gray B-scans, all of one size (rows = depth, columns = A-scans).
    public var bscans: [Frame]
    public var localizer: Frame?
    public var patientID: String? = "P-001"
    public var internalPatientID = 1
    public var studyID = 1
    public var seriesID = 2_910_271
    /// `R`, `L` or nil (the Laterality element is left out).
    public var laterality: String? = "R"
    /// Per-image laterality; nil writes the series' on every image.
    public var imageLaterality: [String?]? = nil
    public var seriesType = "Volume"
    public var manufacturer = "Heidelberg Engineering"
    public var model = "Spectralis"
    public var studyDate = (year: 2021, month: 3, day: 14)
    /// Written on every image; nil leaves AcquisitionTime out.
    public var acquisitionTime: (hour: Int, minute: Int, second: Double, utcBias: Int)? = (11, 15, 40.046, 120)
    public var scaleX = 0.011_819
    public var scaleY = 0.003_872
    /// Millimetres between consecutive B-scans' start (and end) points, all at x = 1.5 mm.
    public var distance = 0.123
    /// Per B-scan, named layer lines of one depth per A-scan (NaN is written as Heyex's 3e+038).
    public var layers: [[(name: String, depths: [Float])]] = []
    /// `NumImages`; nil writes the true count.
    public var declaredImageCount: Int? = nil
    public var xmlName = "export.xml"
    /// How ExamURL spells the folder the files were exported to (Heyex writes Windows paths).
    public var urlPrefix = "file:///\\\\server\\export\\folder\\"

    public init(bscans: [Frame], localizer: Frame? = nil) {
        self.bscans = bscans
        self.localizer = localizer
    }

    /// File name of B-scan `index`.
    public func bscanName(_ index: Int) -> String { "B\(index + 1).png" }
    public var localizerName: String { "NIR1.png" }

    /// Writes the XML and the images into `folder` (created if needed).
    public func write(to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data(xml().utf8).write(to: URL(fileURLWithPath: folder + "/" + xmlName))
        for (index, frame) in bscans.enumerated() {
            try Data(try PNGEncoder.encode(frame)).write(to: URL(fileURLWithPath: folder + "/" + bscanName(index)))
        }
        if let localizer {
            try Data(try PNGEncoder.encode(localizer)).write(to: URL(fileURLWithPath: folder + "/" + localizerName))
        }
    }

    public func xml() -> String {
        var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<HEDX>\n<BODY>\n<ExportType>Data</ExportType>\n"
        x += "<SWVersion><Name>Spectralis Viewing Module</Name><Version>6.9.53.0</Version></SWVersion>\n"
        x += "<Patient>\n<ID>\(internalPatientID)</ID>\n"
        if let patientID { x += "<PatientID>\(escape(patientID))</PatientID>\n" }
        x += "<LastName>Doe</LastName><FirstNames>Jane</FirstNames>\n"
        x += "<Study>\n<ID>\(studyID)</ID>\n<StudyDate><Date><Year>\(studyDate.year)</Year><Month>\(two(studyDate.month))</Month><Day>\(two(studyDate.day))</Day></Date></StudyDate>\n"
        x += "<Series>\n<ID>\(seriesID)</ID>\n<Modality>OCT</Modality>\n<Type>\(escape(seriesType))</Type>\n"
        if let laterality { x += "<Laterality>\(laterality)</Laterality>\n" }
        x += "<ReferenceSeries><ID>\(seriesID)</ID><ExamDate><Date><Year>\(studyDate.year)</Year><Month>\(two(studyDate.month))</Month><Day>\(two(studyDate.day))</Day></Date></ExamDate></ReferenceSeries>\n"
        x += "<GeneralEquipment><Manufacturer>\(escape(manufacturer))</Manufacturer><ManufacturerModelName>\(escape(model))</ManufacturerModelName></GeneralEquipment>\n"
        x += "<NumImages>\(declaredImageCount ?? bscans.count + (localizer == nil ? 0 : 1))</NumImages>\n"
        var imageNumber = 0
        if let localizer {
            x += image(id: imageNumber, type: "LOCALIZER", width: localizer.width, height: localizer.height, scaleX: 0.0118, scaleY: 0.0118,
                       side: laterality, position: nil, name: localizerName, layers: [])
            imageNumber += 1
        }
        for (index, frame) in bscans.enumerated() {
            let y = 6.807 - Double(index) * distance
            let side = imageLaterality.map { $0[index] } ?? laterality
            x += image(id: imageNumber, type: "OCT", width: frame.width, height: frame.height, scaleX: scaleX, scaleY: scaleY, side: side,
                       position: (1.5, y, 1.5 + Double(frame.width) * scaleX, y), name: bscanName(index),
                       layers: index < layers.count ? layers[index] : [])
            imageNumber += 1
        }
        return x + "</Series>\n</Study>\n</Patient>\n</BODY>\n</HEDX>\n"
    }

    private func image(id: Int, type: String, width: Int, height: Int, scaleX: Double, scaleY: Double, side: String?,
                       position: (Double, Double, Double, Double)?, name: String, layers: [(name: String, depths: [Float])]) -> String {
        var x = "<Image>\n<ID>\(id)</ID>\n<ImageNumber>\(id)</ImageNumber>\n"
        if let side { x += "<Laterality>\(side)</Laterality>\n" }
        if let t = acquisitionTime {
            x += "<AcquisitionTime><Time><Hour>\(t.hour)</Hour><Minute>\(t.minute)</Minute><Second>\(t.second)</Second><UTCBias>\(t.utcBias)</UTCBias></Time></AcquisitionTime>\n"
        }
        x += "<ImageType><Type>\(type)</Type></ImageType>\n<OphthalmicAcquisitionContext>\n"
        x += "<Width>\(width)</Width><Height>\(height)</Height><ScaleX>\(scaleX)</ScaleX><ScaleY>\(scaleY)</ScaleY>\n"
        if let (sx, sy, ex, ey) = position {
            x += "<ImageQuality>26</ImageQuality>\n<Start><Coord><X>\(sx)</X><Y>\(sy)</Y></Coord></Start>\n<End><Coord><X>\(ex)</X><Y>\(ey)</Y></Coord></End>\n"
        }
        x += "</OphthalmicAcquisitionContext>\n<ImageData><Extension>PNG</Extension><ExamURL>\(escape(urlPrefix + name))</ExamURL></ImageData>\n"
        if !layers.isEmpty {
            x += "<Segmentation>\n<NumSegmentations>\(layers.count)</NumSegmentations>\n"
            for line in layers {
                let values = line.depths.map { $0.isNaN ? "3e+038" : "\($0)" }.joined(separator: " ")
                x += "<SegLine><Name>\(escape(line.name))</Name><Enabled>true</Enabled><Manual>false</Manual><Array n=\"\(line.depths.count)\" type=\"real\">\(values)</Array></SegLine>\n"
            }
            x += "</Segmentation>\n"
        }
        return x + "</Image>\n"
    }

    private func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
