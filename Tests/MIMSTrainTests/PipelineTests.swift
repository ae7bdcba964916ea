import Foundation
import MIMSCore
import MIMSIngest
import MIMSTestSupport
import Testing
@testable import MIMSTrain

struct PipelineTests {
    static var shipped: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: repositoryRoot + "/pipelines")) ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
    }

    /// Every shipped pipeline parses and builds a network whose names follow the checkpoint scheme.
    @Test func everyShippedPipelineBuilds() throws {
        #expect(Self.shipped.count >= 40)
        for file in Self.shipped {
            let pipeline = try Pipeline.load(path: repositoryRoot + "/pipelines/" + file)
            #expect(file == pipeline.name + ".yaml")
            let shapes = Network(pipeline).parameterShapes()
            #expect(shapes.keys.allSatisfy { $0.hasPrefix("backbone.") || $0.hasPrefix("head.") })
            #expect(shapes["head.fc.weight"]?[0] == 2)
        }
        let mims = try Pipeline.load(path: repositoryRoot + "/pipelines/cirrus-mims.yaml")
        #expect(mims.depth == .resnet101 && mims.kernels == [[2, 8], [3, 10]] && mims.scales == [0.5, 0.75, 1.0] && mims.aggregation == .topK(5))
        #expect(mims.learningRate == 0.01 && mims.backboneLearningRate == 0.005 && mims.momentum == 0.9)
        let shapes = Network(mims).parameterShapes()
        #expect(shapes["head.msconv.convs.0.weight"] == [8, 2048, 2, 2])
        #expect(shapes["head.msconv.sw"] == [3, 18])
        #expect(shapes["backbone.layer3.22.conv2.weight"] == [256, 256, 3, 3])
    }

    @Test func errorsNameTheKeyAndLine() {
        let cases: [(String, String)] = [
            ("name: x\nmodel: mims\nbackbone: {depth: 18}\ninput_size: [64, 64]\nmsconv: {kernels: [[2, 8]]}\nlearnig_rate: 1\n", "'learnig_rate'"),
            ("name: x\nmodel: mimz\nbackbone: {depth: 18}\ninput_size: [64, 64]\n", "'model'"),
            ("name: x\nmodel: mims\nbackbone: {depth: 18}\ninput_size: [64, 64]\n", "'msconv'"),
            ("name: x\nmodel: mi-pre\nbackbone: {depth: 19}\ninput_size: [64, 64]\n", "'backbone.depth'"),
            ("name: x\nmodel: mi-pre\nbackbone: {depth: 18}\ninput_size: [64]\n", "'input_size'"),
            // Keys the variant would ignore, and values that used to fall back silently.
            ("name: x\nmodel: mi-pre\nbackbone: {depth: 18}\ninput_size: [64, 64]\nmsconv: {kernels: [[2, 8]]}\n", "'msconv': nothing: model mi-pre has no MSConv"),
            ("name: x\nmodel: mi-pre-conv\nbackbone: {depth: 18}\ninput_size: [64, 64]\nmsconv: {kernels: [[2, 8]], scales: [1]}\n", "'msconv.scales': nothing: model mi-pre-conv"),
            ("name: x\nmodel: mi-pre\nbackbone: {depth: 18}\ninput_size: [64, 64]\npooling: {aggregation: mean, k: 3}\n", "'pooling.k'"),
            ("name: x\nmodel: mi-pre\nbackbone: {depth: 18}\ninput_size: [64, 64]\ntraining: {eval_split: validation}\n", "'training.eval_split': one of val, test"),
        ]
        for (text, key) in cases {
            do {
                _ = try Pipeline.parse(text, file: "p.yaml")
                Issue.record("accepted: \(text)")
            } catch {
                #expect("\(error)".contains(key) && "\(error)".hasPrefix("p.yaml:"), "\(error)")
            }
        }
    }

    /// A missing eval split and volume-only keys on 2D shards are said, not silent.
    @Test func fallbacksAndKeysWithoutEffectAreNoted() throws {
        let dir = try TemporaryDirectory()
        _ = try SyntheticDatasetWriter(dataset: .mmd, count: 8, small: true).write(to: dir.path + "/src")
        _ = try IngestRunner(manifest: ManifestParser.load(path: dir.path + "/src/manifest.yaml"), output: dir.path + "/shards",
                             options: .init(jobs: 2, toolVersion: "test"), reporter: ProgressReporter(format: .quiet)).run()
        let pipeline = try Pipeline.parse("""
        name: x
        model: mi-pre
        backbone: {depth: 18, feature_layer: layer2, weights: none}
        input_size: [64, 64]
        training: {iterations: 1, slices: [2, 3]}
        """, file: "p.yaml")
        #expect(pipeline.volumeKeys == ["slices"] && pipeline.evalSplit == "val")
        let trainer = try Trainer(pipeline: pipeline, options: Trainer.Options(shards: dir.path + "/shards", run: dir.path + "/run"))
        #expect(trainer.notes.contains { $0.contains("no val split") && $0.contains("evaluating on test") })
        #expect(trainer.notes.contains { $0.contains("training.slices had no effect") })
    }

    /// One scoring rule per pipeline: patch classifiers average their slices, max-inst takes the
    /// largest slice, pooled models score the bag as one.
    @Test func bagScoringFollowsTheVariant() throws {
        func pipeline(_ model: String, _ aggregation: String) throws -> Pipeline {
            let variant = try #require(Pipeline.Variant(rawValue: model))
            let msconv = variant.usesMSConv ? "msconv: {kernels: [[3, 4]]}\n" : ""
            let k = aggregation == "topk" ? ", k: 2" : ""
            return try Pipeline.parse("name: x\nmodel: \(model)\nbackbone: {depth: 18}\ninput_size: [64, 64]\n\(msconv)pooling: {aggregation: \(aggregation)\(k)}\n", file: "p.yaml")
        }
        let probabilities: [Float] = [0.2, 0.8, 0.5, 0.1, 0.4]
        let patch = BagScoring(try pipeline("mims-patchcls", "topk"))
        let maxInst = BagScoring(try pipeline("mi-pre", "max-inst"))
        let pooled = BagScoring(try pipeline("mims", "topk"))
        #expect(patch == .sliceMean && maxInst == .sliceMax && pooled == .pooled)
        #expect(patch.headBagSizes([3, 2]) == [1, 1, 1, 1, 1] && pooled.headBagSizes([3, 2]) == [3, 2])
        let mean = patch.scores(probabilities, bagSizes: [3, 2]), max = maxInst.scores(probabilities, bagSizes: [3, 2])
        #expect(abs(mean[0] - 0.5) < 1e-6 && abs(mean[1] - 0.25) < 1e-6)
        #expect(abs(max[0] - 0.8) < 1e-6 && abs(max[1] - 0.4) < 1e-6)
        #expect(pooled.scores([0.3, 0.9], bagSizes: [3, 2]).map { Float($0) } == [0.3, 0.9])
    }
}

struct MetricTests {
    /// The golden AUROC cases (ties count one half).
    @Test func aurocGoldenCases() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: repositoryRoot + "/Tests/Fixtures/golden/auroc_cases.json"))
        let cases = try JSONSerialization.jsonObject(with: data) as! [[String: Any]]
        #expect(cases.count >= 4)
        for c in cases {
            let auroc = Metrics.auroc(scores: c["scores"] as! [Double], labels: c["labels"] as! [Int])
            #expect(abs(auroc! - (c["auroc"] as! Double)) < 1e-12)
        }
        #expect(Metrics.auroc(scores: [0.1, 0.2], labels: [1, 1]) == nil)
        #expect(Metrics.auroc(scores: [.nan, 0.2, 0.9, .nan], labels: [0, 0, 1, 1]) == 0.625)
    }
}

struct SamplerTests {
    @Test func trainingDrawsWithinTheCentralWindow() {
        let sampler = SliceSampler()
        var random = SplitMix64Stub(seed: 3)
        var counts = Set<Int>()
        for _ in 0..<400 {
            let slices = sampler.training(frames: 128, using: &random)
            counts.insert(slices.count)
            #expect((12...18).contains(slices.count))
            #expect(slices == slices.sorted() && Set(slices).count == slices.count)
            #expect(slices.allSatisfy { (49..<79).contains($0) })
        }
        #expect(counts == Set(12...18))
        #expect(sampler.evaluation(frames: 128) == Array(49..<79))
        #expect(sampler.evaluation(frames: 9) == Array(0..<9))
        #expect(sampler.training(frames: 9, using: &random).count == 9)
        #expect(sampler.training(frames: 1, using: &random) == [0])
    }

    @Test func scheduleIsAFunctionOfSeedAndIteration() {
        let schedule = TrainingSchedule(labels: [0, 1, 0, 1, 1], frameCounts: [40, 40, 40, 40, 40], bagsPerIteration: 2,
                                        sampler: SliceSampler(), classBalanced: false, seed: 9)
        let again = TrainingSchedule(labels: [0, 1, 0, 1, 1], frameCounts: [40, 40, 40, 40, 40], bagsPerIteration: 2,
                                     sampler: SliceSampler(), classBalanced: false, seed: 9)
        for i in [0, 1, 7, 100] {
            #expect(schedule.choices(iteration: i).map(\.record) == again.choices(iteration: i).map(\.record))
            #expect(schedule.choices(iteration: i).map(\.slices) == again.choices(iteration: i).map(\.slices))
        }
        // Each epoch visits every record once.
        let epoch = [0, 1].flatMap { schedule.choices(iteration: $0).map(\.record) } + [schedule.choices(iteration: 2).map(\.record)[0]]
        #expect(Set(epoch) == Set(0..<5))
    }

    /// docs/MODEL.md's "Bags and batches" is enough to reproduce the trainer's draws: a Python
    /// implementation written from that page alone picks the same records and slices.
    @Test(arguments: [false, true])
    func scheduleMatchesTheDocumentedGenerator(balanced: Bool) throws {
        let labels = [0, 1, 0, 1, 1, 0, 0], frames = [40, 31, 12, 64, 30, 5, 33]
        let schedule = TrainingSchedule(labels: labels, frameCounts: frames, bagsPerIteration: 3,
                                        sampler: SliceSampler(perBag: 12...18, central: 30), classBalanced: balanced, seed: 0xDEADBEEF)
        let spec = "{\"labels\": \(labels), \"frames\": \(frames), \"bags\": 3, \"slices\": [12, 18], \"central\": 30, "
            + "\"balanced\": \(balanced), \"seed\": \(0xDEADBEEF), \"iterations\": 12}"
        let output = try run(["python3", repositoryRoot + "/Tests/Interop/batch_schedule.py", spec])
        let python = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[[Any]]])
        for (i, bags) in python.enumerated() {
            let swift = schedule.choices(iteration: i)
            #expect(bags.map { $0[0] as! Int } == swift.map(\.record), "iteration \(i)")
            #expect(bags.map { $0[1] as! [Int] } == swift.map(\.slices), "iteration \(i)")
        }
    }
}

/// SplitMix64 from MIMSCore under a local name (tests use the same generator the trainer does).
typealias SplitMix64Stub = SplitMix64
