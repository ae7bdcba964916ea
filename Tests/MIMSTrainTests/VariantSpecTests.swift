import Foundation
import MIMSTestSupport
import Testing
@testable import MIMSModels
@testable import MIMSTrain

/// The variant table (``VariantSpec``): the keys each variant reads, the head it builds, its
/// trunk and its scoring rule.
struct VariantSpecTests {
    typealias Branch = MIMSHead.Branch
    typealias Group = MIMSHead.Group

    /// Each variant's network is the one the per-variant switch of `Network.init` built before the
    /// table (ResNet-18 to layer3: 256 channels, layer4 512; kernels [[2, 3], [3, 4]], 7 channels).
    @Test func everyVariantBuildsTheHeadItBuiltBefore() throws {
        let kernels = [Group(kernel: 2, channels: 3), Group(kernel: 3, channels: 4)]
        let one = [Branch(scale: 1)], perLevel = (0..<3).map { Branch(source: $0, scale: 1) }
        let scales = [0.5, 0.75, 1.0].map { Branch(scale: $0) }
        let wide3x3 = [Group(kernel: 3, channels: 7)]
        let expected: [Pipeline.Variant: (channels: [Int], branches: [Branch], groups: [Group], pyramid: [Double], layers: [Int], depth: Int)] = [
            .mims: ([256], scales, kernels, [1], [3], 18),
            .mimsPatchcls: ([256], scales, kernels, [1], [3], 18),
            .miPre: ([256], one, [], [1], [3], 18),
            .resnet34Scratch: ([256], one, [], [1], [3], 34),
            .pyramidMiPre: ([256, 256, 256], perLevel, [], [0.5, 0.75, 1.0], [3], 18),
            .miPreConv: ([256], one, wide3x3, [1], [3], 18),
            .miPreConvPatchcls: ([256], one, wide3x3, [1], [3], 18),
            .mimsNoResizing: ([256], one, kernels, [1], [3], 18),
            .pyramidMims: ([256, 256, 256], perLevel, kernels, [0.5, 0.75, 1.0], [3], 18),
            .miPreTrident: ([256], (1...3).map { Branch(scale: 1, dilation: $0) }, wide3x3, [1], [3], 18),
            .featpyra45: ([256, 512], [Branch(source: 0, scale: 1), Branch(source: 1, scale: 1)],
                          [Group(kernel: 3, channels: 3, branches: [0]), Group(kernel: 3, channels: 3, branches: [1])], [1], [3, 4], 18),
        ]
        #expect(expected.count == Pipeline.Variant.allCases.count)
        for variant in Pipeline.Variant.allCases {
            let want = try #require(expected[variant])
            let network = Network(try NetworkGradientTests.pipeline(variant.rawValue), classes: 3)
            #expect(network.head == MIMSHead(inputChannels: want.channels, branches: want.branches, groups: want.groups, aggregation: .topK(5), classes: 3),
                    "\(variant.rawValue)")
            #expect(network.pyramid == want.pyramid && network.featureLayers == want.layers && network.trunk.depth.rawValue == want.depth, "\(variant.rawValue)")
        }
    }

    /// A variant-dependent key the variant does not read is refused, naming the file, the line
    /// and the key; every variant that reads `msconv.kernels` requires it.
    @Test func keysAVariantDoesNotReadAreRefused() {
        func parse(_ model: String, _ msconv: String) -> String? {
            let depth = Pipeline.Variant(rawValue: model)?.spec.depth?.rawValue ?? 18
            let text = "name: x\nmodel: \(model)\nbackbone: {depth: \(depth)}\ninput_size: [64, 64]\n\(msconv)"
            do {
                _ = try Pipeline.parse(text, file: "p.yaml")
                return nil
            } catch {
                return "\(error)"
            }
        }
        for variant in Pipeline.Variant.allCases {
            let spec = variant.spec
            let kernelsOnly = parse(variant.rawValue, "msconv:\n  kernels: [[2, 8]]\n")
            let withScales = parse(variant.rawValue, "msconv:\n  kernels: [[2, 8]]\n  scales: [0.5, 1.0]\n")
            let absent = parse(variant.rawValue, "")
            if !spec.reads.contains(.kernels) {
                #expect(kernelsOnly?.hasPrefix("p.yaml:6: 'msconv': nothing: model \(variant.rawValue) has no MSConv layers") == true, "\(kernelsOnly ?? "accepted")")
                #expect(absent == nil, "\(absent ?? "")")
            } else {
                #expect(kernelsOnly == nil, "\(kernelsOnly ?? "")")
                #expect(absent?.hasPrefix("p.yaml:") == true && absent?.contains("'msconv'") == true, "\(absent ?? "accepted")")
            }
            if spec.reads.contains(.kernels) && !spec.reads.contains(.scales) {
                #expect(withScales?.hasPrefix("p.yaml:7: 'msconv.scales': nothing: model \(variant.rawValue) does not resize its feature maps (only mims and mims-patchcls use msconv.scales)") == true,
                        "\(withScales ?? "accepted")")
            } else if spec.reads.contains(.scales) {
                #expect(withScales == nil, "\(withScales ?? "")")
            }
        }
    }

    /// A variant defined with a fixed depth (resnet34-scratch) or fixed feature layers (featpyra-4-5)
    /// refuses a pipeline that names another, with the file, line and key.
    @Test func fixedDepthAndLayersAreRefusedOtherwise() throws {
        func parse(_ model: String, _ backbone: String) -> String? {
            do {
                _ = try Pipeline.parse("name: x\nmodel: \(model)\nbackbone: {\(backbone)}\ninput_size: [64, 64]\nmsconv: {kernels: [[2, 8]]}\n", file: "p.yaml")
                return nil
            } catch {
                return "\(error)"
            }
        }
        #expect(parse("resnet34-scratch", "depth: 18")?.hasPrefix("p.yaml:3: 'backbone.depth': 34: resnet34-scratch is ResNet-34 by definition") == true,
                "\(parse("resnet34-scratch", "depth: 18") ?? "accepted")")
        #expect(parse("featpyra-4-5", "depth: 18, feature_layer: layer3")?.hasPrefix("p.yaml:3: 'backbone.feature_layer': layer4 (or nothing): featpyra-4-5 reads layers 3 and 4") == true,
                "\(parse("featpyra-4-5", "depth: 18, feature_layer: layer3") ?? "accepted")")
        #expect(parse("featpyra-4-5", "depth: 18, feature_layer: layer4") == nil && parse("featpyra-4-5", "depth: 50") == nil)
        #expect(parse("mims", "depth: 34, feature_layer: layer3") == nil)
    }

    /// A patch classifier scores a volume by the mean of its slices: `max-inst` would be ignored,
    /// so it is refused; elsewhere it picks the max-of-slices rule.
    @Test func scoringRuleComesFromTheTable() throws {
        let text = "name: x\nmodel: MODEL\nbackbone: {depth: 18}\ninput_size: [64, 64]\nmsconv: {kernels: [[2, 8]]}\npooling:\n  aggregation: max-inst\n"
        for variant in Pipeline.Variant.allCases where variant.usesMSConv {
            let yaml = text.replacingOccurrences(of: "MODEL", with: variant.rawValue)
            if variant.spec.scoring == .sliceMean {
                #expect(variant.spec.needsVolumes)
                do {
                    _ = try Pipeline.parse(yaml, file: "p.yaml")
                    Issue.record("accepted max-inst for \(variant.rawValue)")
                } catch {
                    #expect("\(error)".hasPrefix("p.yaml:7: 'pooling.aggregation': topk, mean or max: model \(variant.rawValue)"), "\(error)")
                }
            } else {
                #expect(!variant.spec.needsVolumes)
                #expect(BagScoring(try Pipeline.parse(yaml, file: "p.yaml")) == .sliceMax)
            }
        }
        #expect(Pipeline.Variant.allCases.filter(\.spec.needsVolumes) == [.mimsPatchcls, .miPreConvPatchcls])
    }

    /// Every shipped pipeline parses under the table's refusals.
    @Test func everyShippedPipelineParses() throws {
        let folder = repositoryRoot + "/pipelines"
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".yaml") }
        #expect(files.count >= 40)
        for file in files {
            #expect(throws: Never.self, "\(file)") { try Pipeline.load(path: folder + "/" + file) }
        }
    }
}
