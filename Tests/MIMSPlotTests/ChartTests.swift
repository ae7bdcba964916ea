import Foundation
import MIMSImage
import MIMSTestSupport
import Testing
@testable import MIMSPlot

struct ChartTests {
    @Test func ticksAreRoundAndCoverTheRange() {
        #expect(LineChart.ticks(0...1) == [0, 0.2, 0.4, 0.6, 0.8, 1.0].map { $0 })
        #expect(LineChart.ticks(0...137) == [0, 50, 100])
        #expect(LineChart.ticks(0.31...0.74, count: 4) == [0.4, 0.6])
        #expect(LineChart.ticks(0...0.03) == [0, 0.01, 0.02, 0.03])
        #expect(LineChart.label(0.4, step: 0.1) == "0.4" && LineChart.label(100, step: 50) == "100")
    }

    /// A ROC chart drawn to PNG from its SVG (librsvg), decoded by Pillow: 300 dpi, the curve's pixels
    /// carry the first series colour where the data says, the plot is white where there is no data,
    /// the title's text leaves dark pixels in its band.
    @Test func rocChartPNGFromSVGThroughPillow() throws {
        var chart = LineChart(title: "ROC test", xLabel: "false positive rate", yLabel: "true positive rate",
                              series: [.init(name: "run A (AUROC 0.750)", points: [(0, 0), (0, 0.5), (0.5, 0.5), (0.5, 1), (1, 1)])])
        chart.xRange = 0...1
        chart.yRange = 0...1
        chart.diagonal = true
        let dir = try TemporaryDirectory()
        let svg = chart.svg()
        try svg.write(toFile: dir.path + "/roc.svg", atomically: true, encoding: .utf8)
        try Data(try SVGRasterizer.png(svg)).write(to: URL(fileURLWithPath: dir.path + "/roc.png"))
        let script = """
        import json, sys, xml.etree.ElementTree as E
        from PIL import Image
        ns = "{http://www.w3.org/2000/svg}"
        root = E.parse(sys.argv[1]).getroot()
        plot = next(r for r in root.iter(ns + "rect") if r.get("fill") == "none")
        x, y, w, h = (float(plot.get(k)) for k in ("x", "y", "width", "height"))
        image = Image.open(sys.argv[2]).convert("RGB")
        s = image.size[0] / float(root.get("width"))
        at = lambda fx, fy: list(image.getpixel((round((x + fx * w) * s), round((y + h - fy * h) * s))))
        title = [image.getpixel((i, j)) for i in range(image.size[0]) for j in range(round(8 * s), round(26 * s))]
        print(json.dumps({"size": image.size, "svg": [float(root.get("width")), float(root.get("height"))],
                          "horizontal": at(0.25, 0.5), "vertical": at(0.5, 0.75), "empty": at(0.75, 0.25),
                          "dark_title_pixels": sum(1 for p in title if max(p) < 100)}))
        """
        let output = try run(["python3", "-c", script, dir.path + "/roc.svg", dir.path + "/roc.png"])
        let facts = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        let size = try #require(facts["size"] as? [Int]), declared = try #require(facts["svg"] as? [Double])
        #expect(size == declared.map { Int(($0 * SVGRasterizer.printScale).rounded(.up)) }, "300 dpi: \(size) for \(declared)")
        let blue = PlotColor.series[0]
        func near(_ pixel: Any?, _ color: PlotColor) -> Bool {
            guard let p = pixel as? [Int], p.count == 3 else { return false }
            return abs(p[0] - Int(color.r)) <= 8 && abs(p[1] - Int(color.g)) <= 8 && abs(p[2] - Int(color.b)) <= 8
        }
        #expect(near(facts["horizontal"], blue) && near(facts["vertical"], blue), "\(facts)")
        #expect(near(facts["empty"], .white), "\(facts)")
        #expect((facts["dark_title_pixels"] as? Int ?? 0) > 200, "\(facts)")
        // A document librsvg cannot read is an error that says so, not a crash or an empty file.
        #expect(throws: PlotError.self) { try SVGRasterizer.png("<svg") }
    }

    /// The SVG copy, read by Python's XML parser: the curve's vertices sit where the data says in
    /// the plot rectangle, every point has a hover title with its values, the legend lies right of
    /// the plot (not over the curves), a NaN breaks the line, and `integerX` keeps whole ticks.
    @Test func svgChartPlacesDataLegendAndHoverValues() throws {
        var chart = LineChart(title: "AUROC <test> & more", xLabel: "iteration", yLabel: "AUROC",
                              series: [.init(name: "run A", points: [(1, 0.5), (2, 0.75), (3, .nan), (4, 1.0)], markers: true),
                                       .init(name: "run B", points: [(1, 0.25), (4, 0.5)], dashed: true)])
        chart.xRange = 1...4
        chart.yRange = 0...1
        chart.integerX = true
        let dir = try TemporaryDirectory()
        try chart.svg().write(toFile: dir.path + "/c.svg", atomically: true, encoding: .utf8)
        let script = """
        import json, sys, xml.etree.ElementTree as E
        ns = "{http://www.w3.org/2000/svg}"
        root = E.parse(sys.argv[1]).getroot()
        plot = next(r for r in root.iter(ns + "rect") if r.get("fill") == "none")
        print(json.dumps({
            "plot": [float(plot.get(k)) for k in ("x", "y", "width", "height")],
            "lines": [[[float(v) for v in p.split(",")] for p in l.get("points").split()] for l in root.iter(ns + "polyline")],
            "dashed": [l.get("stroke-dasharray") is not None for l in root.iter(ns + "polyline")],
            "hover": [c.find(ns + "title").text for c in root.iter(ns + "circle")],
            "texts": [t.text for t in root.iter(ns + "text")],
            "legend": [float(t.get("x")) for t in root.find(ns + "g").iter(ns + "text")],
            "title": root.find(ns + "title").text}))
        """
        let output = try run(["python3", "-c", script, dir.path + "/c.svg"])
        let facts = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        let plot = try #require(facts["plot"] as? [Double])
        func pixel(_ x: Double, _ y: Double) -> [Double] { [plot[0] + (x - 1) / 3 * plot[2], plot[1] + plot[3] - y * plot[3]] }
        let lines = try #require(facts["lines"] as? [[[Double]]])
        // Run A breaks at the NaN: (1, 0.5)-(2, 0.75), then (4, 1) alone draws no line; run B is one line.
        #expect(lines.count == 2, "\(lines)")
        func close(_ a: [[Double]], _ b: [[Double]]) -> Bool { a.count == b.count && zip(a, b).allSatisfy { zip($0, $1).allSatisfy { abs($0 - $1) < 0.01 } } }
        #expect(close(lines[0], [pixel(1, 0.5), pixel(2, 0.75)]) && close(lines[1], [pixel(1, 0.25), pixel(4, 0.5)]), "\(lines)")
        #expect(facts["dashed"] as? [Bool] == [false, true])
        #expect(facts["hover"] as? [String] == ["run A: iteration 1, AUROC 0.5", "run A: iteration 2, AUROC 0.75", "run A: iteration 4, AUROC 1",
                                              "run B: iteration 1, AUROC 0.25", "run B: iteration 4, AUROC 0.5"])
        let legend = try #require(facts["legend"] as? [Double])
        #expect(legend.count == 2 && legend.allSatisfy { $0 > plot[0] + plot[2] }, "legend at \(legend), plot ends at \(plot[0] + plot[2])")
        let texts = try #require(facts["texts"] as? [String])
        #expect(Array(texts.prefix(4)) == ["1", "2", "3", "4"], "integer iteration ticks: \(texts)")
        #expect(facts["title"] as? String == "AUROC <test> & more" && texts.contains("AUROC <test> & more"))
    }

    /// The matrix's SVG through Python's XML parser: every cell's count, fill (shade of its row
    /// share, recomputed in Python) and hover title, and the class names on both axes.
    @Test func confusionMatrixSVGCarriesCountsSharesAndNames() throws {
        let counts = [[5, 1, 0], [2, 7, 1], [0, 0, 0]]
        let chart = ConfusionMatrixChart(title: "seed 1, most probable class", classes: ["MSS", "MSIMUT", "SUBTYPE2"], counts: counts)
        let dir = try TemporaryDirectory()
        try chart.svg().write(toFile: dir.path + "/m.svg", atomically: true, encoding: .utf8)
        let script = """
        import json, sys, xml.etree.ElementTree as E
        ns = "{http://www.w3.org/2000/svg}"
        root = E.parse(sys.argv[1]).getroot()
        counts = json.loads(sys.argv[2])
        names = ["MSS", "MSIMUT", "SUBTYPE2"]
        problems = []
        cells = [g for g in root.iter(ns + "g") if g.get("class") == "cell"]
        if len(cells) != 9: problems.append("cells: %d" % len(cells))
        for g in cells:
            i, j = int(g.get("data-row")), int(g.get("data-column"))
            total = sum(counts[i])
            share = counts[i][j] / total if total else 0.0
            level = int(255 - 170 * share)
            want = {"count": str(counts[i][j]), "fill": "#%02x%02x%02x" % (level, level, 255),
                    "title": "true %s, predicted %s: %d (%.1f%% of true %s)" % (names[i], names[j], counts[i][j], 100 * share, names[i])}
            got = {"count": g.find(ns + "text").text, "fill": g.find(ns + "rect").get("fill"), "title": g.find(ns + "title").text}
            if got != want: problems.append((i, j, got, want))
        rows = [t.text for t in root.iter(ns + "text") if t.get("class") == "row-name"]
        columns = [t.text for t in root.iter(ns + "text") if t.get("class") == "column-name"]
        if rows != names or columns != names: problems.append((rows, columns))
        if root.find(ns + "title").text != "seed 1, most probable class": problems.append("title")
        print(json.dumps(problems))
        """
        let countsJSON = "[" + counts.map { "[" + $0.map(String.init).joined(separator: ",") + "]" }.joined(separator: ",") + "]"
        let problems = try run(["python3", "-c", script, dir.path + "/m.svg", countsJSON])
        #expect(problems.trimmingCharacters(in: .whitespacesAndNewlines) == "[]", "\(problems)")
    }
}

