import Foundation
import MIMSIngest
import MIMSTestSupport
import Testing
@testable import MIMSTensor
@testable import MIMSTrain

/// Heatmaps and the run report on a tiny trained model.
struct HeatmapReportTests {
    @Test func heatmapsAndReport() throws {
        let dir = try TemporaryDirectory()
        let shards = try TrainingFixtures.shards(dir)
        let trainer = try TrainerTests.trainer(shards, run: dir.path + "/run")
        let last = try trainer.run()
        let test = try #require(try RunOutputs.evaluateAndWrite(trainer: trainer, split: "test"))
        #expect(last?.auroc == test.auroc)

        let dataset = try ShardDataset(folder: shards, split: "test")
        let maker = HeatmapMaker(network: trainer.network, store: trainer.store, layer: 2)
        let sampler = SliceSampler(perBag: trainer.pipeline.slicesPerBag, central: trainer.pipeline.centralSlices)
        let slices = sampler.evaluation(frames: dataset.records[0].info.frameCount)
        let batch = try BatchAssembler(dataset: dataset, inputSize: trainer.pipeline.inputSize).batch([(0, slices)])
        let result = maker.make(batch)
        // Top-k pooling selected k values per MSConv channel: N x k in all, spread over the slices.
        #expect(result.selectedPerSlice.reduce(0, +) == trainer.network.head.features * 5)
        #expect(result.ranking.count == slices.count && Set(result.ranking) == Set(slices.indices))
        for (a, b) in zip(result.ranking, result.ranking.dropFirst()) {
            let (ca, cb) = (result.selectedPerSlice[a], result.selectedPerSlice[b])
            #expect(ca > cb || (ca == cb && a < b))
        }
        #expect(result.contribution.values.allSatisfy { $0 >= 0 })
        let top = result.contribution.values.max()!
        if top > 0 { #expect(result.quantized.max() == 255) }
        // The same score as the evaluator's.
        #expect(abs(result.score - test.scored[0].score) < 1e-5)

        // Exported files: the .npy reads back in NumPy with the same values.
        let exporter = HeatmapExporter(maker: maker, dataset: dataset, sampler: sampler)
        let written = try exporter.export(record: 0, to: dir.path + "/maps", images: true, game: nil)
        #expect(written.images.count == min(3, slices.count))
        let npy = dir.path + "/maps/" + HeatmapExporter.fileName(written.id) + ".npy"
        let summary = try run(["python3", "-c", "import numpy as n,sys; a=n.load(sys.argv[1]); print(a.shape, float(a.sum()))", npy])
        let (h, w) = (result.contribution.shape[1], result.contribution.shape[2])
        #expect(summary.hasPrefix("(\(slices.count), \(h), \(w))"))
        let sum = Double(summary.split(separator: " ").last!.trimmingCharacters(in: .whitespacesAndNewlines))!
        let expected = result.contribution.values.reduce(0.0) { $0 + Double($1) }
        #expect(abs(sum - expected) <= 1e-4 * max(1, abs(expected)))
        // A slice figure (SVG, and the PNG librsvg draws from it at its size): the embedded image is
        // the gray overlay 0.6 R + 0.3 P* beside the jet one, recomputed here from the frame and the map;
        // the colour bar runs from jet(0) at the bottom to jet(1) at the top.
        let (frameWidth, frameHeight) = (dataset.frameShape.width, dataset.frameShape.height)
        func figure(_ image: String) throws -> [String: Any] {
            let png = dir.path + "/maps/" + image
            let output = try run(["python3", repositoryRoot + "/Tests/Interop/heatmap_figure.py", png, String(png.dropLast(4)) + ".svg"])
            return try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        }
        let plain = try figure(written.images[0])
        let shownFrame = Int(written.images[0].dropLast(4).suffix(3))!
        #expect(plain["embedded_size"] as? [Int] == [2 * frameWidth, frameHeight], "\(plain["embedded_size"] ?? "")")
        let position = try #require(slices.firstIndex(of: shownFrame))
        let gray = HeatmapRenderer.gray(try dataset.frames(ofRecord: 0, first: shownFrame, count: 1), shape: dataset.frameShape)
        let heat = HeatmapRenderer.upsampled(result, position: position, height: frameHeight, width: frameWidth)
        let embedded = try #require(plain["embedded"] as? [[Int]])
        for (i, pixel) in embedded.enumerated() where i % 7 == 0 {
            let (y, x) = (i / (2 * frameWidth), i % (2 * frameWidth))
            let (r, p) = (gray[y * frameWidth + x % frameWidth], heat[y * frameWidth + x % frameWidth])
            if x < frameWidth {
                let g = Int(max(0, min(255, (0.6 * r + 0.3 * p).rounded())))
                #expect(pixel == [g, g, g], "gray panel at (\(y), \(x))")
            } else {
                // Red channel of the jet panel: 0.6 R + 0.3 · 255 · jet_r(P*/255), jet_r = clamp(1.5 - |4v - 3|).
                let v = Double(p) / 255, jetRed = min(1, max(0, 1.5 - abs(4 * v - 3)))
                #expect(abs(pixel[0] - Int((0.6 * Double(r) + 0.3 * 255 * jetRed).rounded())) <= 1, "jet panel at (\(y), \(x))")
            }
        }
        let svgSize = try #require(plain["svg_size"] as? [Double])
        #expect(plain["png_size"] as? [Int] == svgSize.map { Int($0.rounded(.up)) }, "\(plain["png_size"] ?? "")")
        for step in try #require(plain["bar"] as? [[String: [Int]]]) {
            #expect(zip(step["png"]!, step["jet"]!).allSatisfy { abs($0 - $1) <= 2 }, "\(step)")
        }
        #expect(plain["caption"] as? String == "\(written.id), slice \(shownFrame) of \(dataset.records[0].info.frameCount) (from 0), label \(written.label), "
                + String(format: "score %.3f", written.score))
        #expect((plain["lesions"] as? [Any])?.isEmpty == true)
        // A lesion box on the shown slice (and one on another slice, not drawn) is outlined in magenta on both panels.
        let lesions = dir.path + "/boxes.json"
        try """
        [{"id": "\(written.id)", "frame": \(shownFrame), "y0": 5, "x0": 7, "y1": 21, "x1": 30},
         {"id": "\(written.id)", "frame": \(shownFrame + 1000), "y0": 1, "x0": 1, "y1": 4, "x1": 4}]
        """.write(toFile: lesions, atomically: true, encoding: .utf8)
        let boxed = try exporter.export(record: 0, to: dir.path + "/maps", images: true, game: try PointingGame(lesionsFile: lesions))
        #expect(boxed.images == written.images)
        let withBox = try figure(boxed.images[0])
        let rectangles = try #require(withBox["lesions"] as? [[Double]])
        #expect(rectangles.count == 2 && withBox["outlined"] as? [Bool] == [true, true], "\(rectangles) \(withBox["outlined"] ?? "")")
        // Both rectangles cover frame rows 5..<21 and columns 7..<30 at the figure's scale, the second one panel to the right.
        if rectangles.count == 2 {
            let scale = rectangles[0][2] / 23
            #expect(abs(rectangles[0][3] - 16 * scale) < 1e-6 && abs(rectangles[1][0] - rectangles[0][0] - Double(frameWidth) * scale) < 1e-6)
        }

        // The report: every image it references exists and decodes.
        var report = RunReport(folder: dir.path + "/run", pipeline: trainer.pipeline, shards: shards,
                               runs: [.init(name: "tiny", folder: dir.path + "/run", test: test)], network: trainer.network, store: trainer.store)
        report.lesions = dir.path + "/src/lesions.json"
        let html = try String(contentsOfFile: try report.write(), encoding: .utf8)
        let sources = html.components(separatedBy: "<img src=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        #expect(sources.allSatisfy { $0.hasPrefix("gallery/") }, "charts are inline SVG, heatmaps images: \(sources)")
        for source in sources {
            _ = try run(["python3", "-c", "from PIL import Image; import sys; Image.open(sys.argv[1]).load()", dir.path + "/run/" + source])
        }
        // The curves are drawn inline as SVG (well-formed XML), each linking its PNG for print.
        let links = html.components(separatedBy: "<a href=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        #expect(links.contains("plots/roc.png") && links.contains("plots/loss.png") && links.contains("plots/confusion.png"), "\(links)")
        for link in links {
            _ = try run(["python3", "-c", "from PIL import Image; import sys; Image.open(sys.argv[1]).load()", dir.path + "/run/" + link])
        }
        let inline = html.components(separatedBy: "<svg ").dropFirst().map { "<svg " + $0.components(separatedBy: "</svg>")[0] + "</svg>" }
        #expect(inline.count >= 3)
        for (k, drawing) in inline.enumerated() {
            // Through a file: heatmap figures embed their image, too long for an argument.
            let file = dir.path + "/inline-\(k).svg"
            try drawing.write(toFile: file, atomically: true, encoding: .utf8)
            _ = try run(["python3", "-c", "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])", file])
        }
        #expect(inline.contains { $0.contains("class=\"colorbar\"") }, "the gallery's heatmaps are inline SVG figures with a colour bar")
        #expect(html.contains("<table>") && html.contains("Dataset card") && html.contains("model: mims"))
        // The dataset card's items are a list, not paragraphs starting with "- ".
        #expect(html.contains("<ul>\n<li>") && !html.contains("<p>- "), "\(html)")
        // The checkpoint, read by an independent safetensors parser, carries torchvision's names and
        // shapes under backbone.* and the same values.
        let checked = try run(["python3", repositoryRoot + "/Tests/Interop/checkpoint_names.py", dir.path + "/run/checkpoint.safetensors",
                               repositoryRoot + "/Tests/Fixtures/golden/resnet18_state_dict_shapes.json"])
        #expect(checked.hasPrefix("ok \(trainer.network.parameterShapes().count) "), "\(checked)")
        let conv1 = trainer.store.tensors["backbone.conv1.weight"]!.values.reduce(0.0) { $0 + Double($1) }
        let pythonSum = Double(checked.split(separator: " ").last!.trimmingCharacters(in: .whitespacesAndNewlines))!
        #expect(abs(pythonSum - conv1) < 1e-6 * max(1, abs(conv1)))
        let md = try String(contentsOfFile: dir.path + "/run/report.md", encoding: .utf8)
        #expect(md.contains("| tiny | test |"))
    }
}
