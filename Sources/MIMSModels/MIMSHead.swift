import MIMSTensor
#if canImport(Glibc)
import Glibc
#endif

/// The part of MIMS-CNN after the backbone (docs/MODEL.md): MSConv over resized primary maps with
/// shared kernels, magnitude normalization, bag pooling and the classifier.
///
/// The same type expresses every variant of docs/MODEL.md's table through its branches and groups:
/// a *branch* is one view of a primary map (which map, the resize factor, the dilation), each with
/// its own magnitude normalization; a *group* is one shared convolution applied to its branches.
/// With no groups the pooling runs straight over the primary maps (`mi-pre`).
///
/// The layers follow the golden `mims_head_*` cases' names: `msconv.convs.G` (a ``Conv2DLayer``),
/// `msconv.bns.I.G` (a ``BatchNorm2DLayer``, branch I, group G), `fc` (a ``LinearLayer``), and the
/// head's own tensors `msconv.sw` [branches, N] and `topk.theta`. They are derived from the
/// branches and groups, so a head is equal to another exactly when its configuration is.
public struct MIMSHead: Layer, Equatable {
    public struct Branch: Sendable, Equatable {
        /// Index into the primary maps handed to ``callAsFunction(_:_:bagSizes:)``.
        public var source: Int
        /// Resize factor s: h = max(1, floor(H s + 0.5)); 1 is the identity.
        public var scale: Double
        public var dilation: Int

        public init(source: Int = 0, scale: Double, dilation: Int = 1) {
            self.source = source
            self.scale = scale
            self.dilation = dilation
        }
    }

    public struct Group: Sendable, Equatable {
        public var kernel: Int
        public var channels: Int
        /// The branches this group's kernels run on; nil for all of them.
        public var branches: [Int]?

        public init(kernel: Int, channels: Int, branches: [Int]? = nil) {
            self.kernel = kernel
            self.channels = channels
            self.branches = branches
        }
    }

    /// Channels of each primary map.
    public var inputChannels: [Int]
    public var branches: [Branch]
    public var groups: [Group]
    public var aggregation: BagAggregation
    public var classes: Int

    public init(inputChannels: [Int], branches: [Branch], groups: [Group], aggregation: BagAggregation = .topK(5), classes: Int = 2) {
        precondition(!groups.isEmpty || branches.allSatisfy { $0.scale == 1 && $0.dilation == 1 }, "without MSConv groups the branches are the primary maps themselves")
        self.inputChannels = inputChannels
        self.branches = branches
        self.groups = groups
        self.aggregation = aggregation
        self.classes = classes
    }

    /// The standard MIMS head: `kernels` as (size, channels) groups shared over `scales` of one map.
    public static func mims(inputChannels: Int, kernels: [(Int, Int)], scales: [Double], aggregation: BagAggregation = .topK(5), classes: Int = 2) -> MIMSHead {
        MIMSHead(inputChannels: [inputChannels], branches: scales.map { Branch(scale: $0) },
                 groups: kernels.map { Group(kernel: $0.0, channels: $0.1) }, aggregation: aggregation, classes: classes)
    }

    /// Features going into the classifier: N = Σ c_g, or the primary channels without MSConv.
    public var features: Int {
        groups.isEmpty ? inputChannels[branches.first?.source ?? 0] : groups.reduce(0) { $0 + $1.channels }
    }

    func branches(of group: Group) -> [Int] { group.branches ?? Array(branches.indices) }

    /// Group g's shared kernels, `msconv.convs.g` (each branch runs them with its own dilation).
    func conv(_ g: Int) -> Conv2DLayer {
        let group = groups[g]
        // Shared weights: every map a group's branches view has the same channels.
        let source = branches[branches(of: group)[0]].source
        return Conv2DLayer("msconv.convs.\(g)", inputs: inputChannels[source], outputs: group.channels, kernel: group.kernel,
                           hasBias: true, initialization: .uniformFanIn)
    }

    /// The BatchNorm of branch i in group g, `msconv.bns.i.g`.
    func batchNorm(branch i: Int, group g: Int) -> BatchNorm2DLayer {
        BatchNorm2DLayer("msconv.bns.\(i).\(g)", channels: groups[g].channels)
    }

    var classifier: LinearLayer { LinearLayer("fc", inputs: features, outputs: classes) }

    /// PyTorch's default initialization: convolutions and fc uniform in ±1/√fan_in (weights and
    /// biases), BN weight 1 and bias 0, running mean 0 and variance 1, sw = 1, and
    /// θ_r = (r − 1) ln 0.5.
    public func parameters(prefix: String) -> [ParameterSpec] {
        var specs = classifier.parameters(prefix: prefix)
        if case .topK(let k) = aggregation { specs.append(ParameterSpec(prefix + "topk.theta", [k], .ramp(step: log(0.5)))) }
        guard !groups.isEmpty else { return specs }
        specs.append(ParameterSpec(prefix + "msconv.sw", [branches.count, features], .constant(1)))
        for (g, group) in groups.enumerated() {
            specs += conv(g).parameters(prefix: prefix)
            for i in branches(of: group) { specs += batchNorm(branch: i, group: g).parameters(prefix: prefix) }
        }
        return specs
    }

    /// Every parameter and buffer name with its shape.
    public func parameterShapes() -> [String: [Int]] { parameters(prefix: "").shapes }

    public func initialize(_ store: ParameterStore, seed: UInt64) { parameters(prefix: "").initialize(store, seed: seed) }

    /// Logits [bags, classes] from the primary maps (each [slices, C, H, W]), and the values each
    /// top-k or max pooling chose (which slices a heatmap ranks first).
    public func callAsFunction(_ parameters: ParameterBinding, _ maps: [Tape.Variable], bagSizes: [Int])
        -> (logits: Tape.Variable, selections: [BagSelection]) {
        let (features, selections) = pooled(parameters, maps, bagSizes: bagSizes)
        return (classifier(parameters, features), selections)
    }

    /// The pooled features [bags, N] going into the classifier, and the poolings' selections.
    public func pooled(_ parameters: ParameterBinding, _ maps: [Tape.Variable], bagSizes: [Int])
        -> (features: Tape.Variable, selections: [BagSelection]) {
        let tape = parameters.tape
        let theta: Tape.Variable? = if case .topK = aggregation { parameters.parameter("topk.theta") } else { nil }
        if groups.isEmpty {
            let (features, selection) = tape.bagPool(branches.map { maps[$0.source] }, bagSizes: bagSizes, aggregation: aggregation, theta: theta)
            return (features, selection.map { [$0] } ?? [])
        }
        let sw = parameters.parameter("msconv.sw")
        var resized: [Int: Tape.Variable] = [:]
        var pooled: [Tape.Variable] = []
        var selections: [BagSelection] = []
        var offset = 0
        for (g, group) in groups.enumerated() {
            var conv = conv(g)
            var outputs: [Tape.Variable] = []
            for i in branches(of: group) {
                let branch = branches[i]
                let input = resized[i] ?? {
                    let map = maps[branch.source], shape = tape.value(map).shape
                    let v = tape.resize(map, height: Self.scaled(shape[2], branch.scale), width: Self.scaled(shape[3], branch.scale))
                    resized[i] = v
                    return v
                }()
                conv.geometry = Conv2DGeometry(stride: 1, padding: branch.dilation * (group.kernel / 2), dilation: branch.dilation)
                let normalized = batchNorm(branch: i, group: g)(parameters, conv(parameters, input))
                outputs.append(tape.scaleChannels(normalized, by: sw, row: i, offset: offset))
            }
            let (features, selection) = tape.bagPool(outputs, bagSizes: bagSizes, aggregation: aggregation, theta: theta)
            pooled.append(features)
            if let selection { selections.append(selection) }
            offset += group.channels
        }
        return (tape.concatChannels(pooled), selections)
    }

    /// h = max(1, floor(H s + 0.5)).
    public static func scaled(_ size: Int, _ scale: Double) -> Int {
        scale == 1 ? size : max(1, Int((Double(size) * scale + 0.5).rounded(.down)))
    }
}
