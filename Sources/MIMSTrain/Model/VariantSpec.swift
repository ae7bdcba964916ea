import MIMSModels
import MIMSTensor

/// Everything that differs between the model variants of docs/MODEL.md's table, in one place:
/// the variant-dependent pipeline keys it reads (``Pipeline/parse(_:file:)`` refuses the others),
/// its trunk (input pyramid, feature layers, a fixed depth), how it builds its ``MIMSHead``, and
/// its bag-scoring rule. ``Network``, ``BagScoring``, the parser and the trainer read this table
/// rather than deciding by variant, so adding a variant is a ``Pipeline/Variant`` case and its row in
/// ``Pipeline/Variant/spec``, both in this file, and, if no existing head fits, a head builder here.
public struct VariantSpec: Sendable {
    /// The pipeline keys whose meaning depends on the variant; every other key means the same to
    /// all of them. A variant that reads ``kernels`` also requires it.
    public enum Key: String, Sendable, CaseIterable {
        case kernels = "msconv.kernels"
        case scales = "msconv.scales"
    }

    /// How the head's outputs become a bag's score and the training loss (``BagScoring``).
    public enum Scoring: Sendable, Equatable {
        /// The head pools the bag (softmax of the pooled logits), or, with `pooling.aggregation:
        /// max-inst`, scores every slice and takes the largest probability.
        case bag
        /// Patch classifiers: every slice is a bag of one with its volume's label; a volume's score
        /// is the mean of its slices' probabilities. Such variants need volume3d shards.
        case sliceMean
    }

    /// What a head builder gets: the channels of each primary map (pyramid level x feature layer,
    /// the order ``Network`` hands them over) and the pipeline's head settings.
    public struct HeadInputs: Sendable {
        public var mapChannels: [Int]
        /// `msconv.kernels` as (size, channels) pairs; empty for variants that do not read them.
        public var kernels: [[Int]]
        public var scales: [Double]
        public var aggregation: BagAggregation
        public var classes: Int

        var kernelGroups: [MIMSHead.Group] { kernels.map { MIMSHead.Group(kernel: $0[0], channels: $0[1]) } }
        /// The kernels' total channel count: the variants that compare against MSConv at equal
        /// width take only this.
        var totalChannels: Int { kernels.reduce(0) { $0 + $1[1] } }
        /// One unresized branch per primary map.
        var branchPerMap: [MIMSHead.Branch] { mapChannels.indices.map { MIMSHead.Branch(source: $0, scale: 1) } }
    }

    /// The variant-dependent keys this variant reads.
    public let reads: Set<Key>
    public let scoring: Scoring
    /// Input resize factors, one trunk pass each; [1] except for the pyramid variants.
    public let pyramid: [Double]
    /// Trunk layers the head reads (1-based); nil: the one `backbone.feature_layer` names.
    public let featureLayers: [Int]?
    /// The trunk depth the variant is defined with, whatever `backbone.depth` says; nil: that key's.
    public let depth: ResNetTrunk.Depth?
    /// Builds the head from the primary maps' channels and the pipeline's settings.
    public let head: @Sendable (HeadInputs) -> MIMSHead

    /// Whether the variant needs volume3d shards (its bags are a volume's slices scored one by one).
    public var needsVolumes: Bool { scoring == .sliceMean }

    /// The one scoring rule of this variant with the pipeline's `pooling.aggregation`.
    public func bagScoring(_ aggregation: Pipeline.Aggregation) -> BagScoring {
        switch scoring {
        case .sliceMean: .sliceMean
        case .bag: aggregation == .maxInstance ? .sliceMax : .pooled
        }
    }

    init(reads: Set<Key>, scoring: Scoring = .bag, pyramid: [Double] = [1], featureLayers: [Int]? = nil, depth: ResNetTrunk.Depth? = nil,
         head: @escaping @Sendable (HeadInputs) -> MIMSHead) {
        self.reads = reads
        self.scoring = scoring
        self.pyramid = pyramid
        self.featureLayers = featureLayers
        self.depth = depth
        self.head = head
    }
}

// The head builders; several variants share one.
extension VariantSpec {
    /// MSConv with shared kernels over the one map resized by `msconv.scales` (mims).
    static let resizedMSConv: @Sendable (HeadInputs) -> MIMSHead = { h in
        MIMSHead(inputChannels: h.mapChannels, branches: h.scales.map { .init(scale: $0) }, groups: h.kernelGroups,
                 aggregation: h.aggregation, classes: h.classes)
    }

    /// MSConv with shared kernels over each primary map as it is (mims-noresizing; pyramid-mims
    /// over its pyramid levels).
    static let msconvPerMap: @Sendable (HeadInputs) -> MIMSHead = { h in
        MIMSHead(inputChannels: h.mapChannels, branches: h.branchPerMap, groups: h.kernelGroups, aggregation: h.aggregation, classes: h.classes)
    }

    /// No MSConv: pooling straight over the primary maps (mi-pre; pyramid-mi-pre over its levels).
    static let poolPerMap: @Sendable (HeadInputs) -> MIMSHead = { h in
        MIMSHead(inputChannels: h.mapChannels, branches: h.branchPerMap, groups: [], aggregation: h.aggregation, classes: h.classes)
    }

    /// One 3x3 convolution as wide as the kernels together, at one scale (mi-pre-conv).
    static let single3x3: @Sendable (HeadInputs) -> MIMSHead = { h in
        MIMSHead(inputChannels: h.mapChannels, branches: [.init(scale: 1)], groups: [.init(kernel: 3, channels: h.totalChannels)],
                 aggregation: h.aggregation, classes: h.classes)
    }

    /// That 3x3 convolution shared over dilations 1, 2 and 3 (mi-pre-trident).
    static let trident: @Sendable (HeadInputs) -> MIMSHead = { h in
        MIMSHead(inputChannels: h.mapChannels, branches: (1...3).map { .init(scale: 1, dilation: $0) },
                 groups: [.init(kernel: 3, channels: h.totalChannels)], aggregation: h.aggregation, classes: h.classes)
    }

    /// A 3x3 convolution of half the kernels' width on each of two feature layers (featpyra-4-5).
    static let featurePyramid: @Sendable (HeadInputs) -> MIMSHead = { h in
        let half = max(1, h.totalChannels / 2)
        return MIMSHead(inputChannels: h.mapChannels, branches: h.branchPerMap,
                        groups: h.mapChannels.indices.map { .init(kernel: 3, channels: half, branches: [$0]) },
                        aggregation: h.aggregation, classes: h.classes)
    }
}

extension Pipeline {
    /// A model variant (docs/MODEL.md's table), named as pipelines spell it; its row is
    /// ``Pipeline/Variant/spec`` below.
    public enum Variant: String, CaseIterable, Sendable {
        case mims, miPre = "mi-pre", pyramidMiPre = "pyramid-mi-pre", miPreConv = "mi-pre-conv"
        case mimsNoResizing = "mims-noresizing", pyramidMims = "pyramid-mims", miPreTrident = "mi-pre-trident"
        case featpyra45 = "featpyra-4-5", resnet34Scratch = "resnet34-scratch"
        case mimsPatchcls = "mims-patchcls", miPreConvPatchcls = "mi-pre-conv-patchcls"

        /// Whether the head has MSConv layers built from `msconv.kernels` (``VariantSpec/reads``;
        /// mi-pre-conv, the trident and the feature pyramid take only the kernels' total channel
        /// count, as 3x3 layers).
        public var usesMSConv: Bool { spec.reads.contains(.kernels) }

        /// Whether the head resizes the feature map by `msconv.scales` (``VariantSpec/reads``; the
        /// others run at one scale, or take their scales from the image pyramid).
        public var usesScales: Bool { spec.reads.contains(.scales) }
    }
}

extension Pipeline.Variant {
    /// This variant's row of the table (docs/MODEL.md, "Variants").
    public var spec: VariantSpec {
        // The image pyramid of the pyramid variants (docs/MODEL.md).
        let pyramid = [0.5, 0.75, 1.0]
        return switch self {
        case .mims: VariantSpec(reads: [.kernels, .scales], head: VariantSpec.resizedMSConv)
        case .mimsPatchcls: VariantSpec(reads: [.kernels, .scales], scoring: .sliceMean, head: VariantSpec.resizedMSConv)
        case .miPre: VariantSpec(reads: [], head: VariantSpec.poolPerMap)
        case .resnet34Scratch: VariantSpec(reads: [], depth: .resnet34, head: VariantSpec.poolPerMap)
        case .pyramidMiPre: VariantSpec(reads: [], pyramid: pyramid, head: VariantSpec.poolPerMap)
        case .miPreConv: VariantSpec(reads: [.kernels], head: VariantSpec.single3x3)
        case .miPreConvPatchcls: VariantSpec(reads: [.kernels], scoring: .sliceMean, head: VariantSpec.single3x3)
        case .mimsNoResizing: VariantSpec(reads: [.kernels], head: VariantSpec.msconvPerMap)
        case .pyramidMims: VariantSpec(reads: [.kernels], pyramid: pyramid, head: VariantSpec.msconvPerMap)
        case .miPreTrident: VariantSpec(reads: [.kernels], head: VariantSpec.trident)
        case .featpyra45: VariantSpec(reads: [.kernels], featureLayers: [3, 4], head: VariantSpec.featurePyramid)
        }
    }

    /// The variants that read `key`, for messages ("mims and mims-patchcls").
    static func readers(of key: VariantSpec.Key) -> String {
        let names = allCases.filter { $0.spec.reads.contains(key) }.map(\.rawValue)
        return names.count <= 1 ? names.joined() : names.dropLast().joined(separator: ", ") + " and " + names.last!
    }
}
