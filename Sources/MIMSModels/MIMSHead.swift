import MIMSCore
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
/// Parameter names follow the golden `mims_head_*` cases: `msconv.convs.G.weight/bias`,
/// `msconv.bns.I.G.*` (branch I, group G), `msconv.sw` [branches, N], `topk.theta`, `fc.*`.
public struct MIMSHead: Sendable, Equatable {
    public struct Branch: Sendable, Equatable {
        /// Index into the primary maps handed to ``forward(_:_:bagSizes:)``.
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

    /// Every parameter and buffer name with its shape.
    public func parameterShapes() -> [String: [Int]] {
        var shapes: [String: [Int]] = ["fc.weight": [classes, features], "fc.bias": [classes]]
        if case .topK(let k) = aggregation { shapes["topk.theta"] = [k] }
        guard !groups.isEmpty else { return shapes }
        shapes["msconv.sw"] = [branches.count, features]
        for (g, group) in groups.enumerated() {
            // Shared weights: every map a group's branches view has the same channels.
            let source = branches[branches(of: group)[0]].source
            shapes["msconv.convs.\(g).weight"] = [group.channels, inputChannels[source], group.kernel, group.kernel]
            shapes["msconv.convs.\(g).bias"] = [group.channels]
            for i in branches(of: group) {
                let p = "msconv.bns.\(i).\(g)."
                for suffix in ["weight", "bias", "running_mean", "running_var"] { shapes[p + suffix] = [group.channels] }
                shapes[p + "num_batches_tracked"] = []
            }
        }
        return shapes
    }

    /// PyTorch's default initialization: convolutions and fc uniform in ±1/√fan_in (weights and
    /// biases), BN weight 1 and bias 0, running mean 0 and variance 1, sw = 1, and
    /// θ_r = (r − 1) ln 0.5.
    public func initialize(_ store: ParameterStore, seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for (name, shape) in parameterShapes().sorted(by: { $0.key < $1.key }) {
            let count = shape.reduce(1, *)
            var values = [Float](repeating: 0, count: count)
            if name.hasPrefix("msconv.convs.") || name.hasPrefix("fc.") {
                let weightShape = name.hasPrefix("fc.") ? [classes, features] : parameterShapes()[name.replacingSuffix(".bias", with: ".weight")]!
                let bound = 1 / Double(weightShape.dropFirst().reduce(1, *)).squareRoot()
                values = (0..<count).map { _ in Float((random.unit() * 2 - 1) * bound) }
            } else if name == "topk.theta" {
                values = (0..<count).map { Float(Double($0) * log(0.5)) }
            } else if name == "msconv.sw" || name.hasSuffix(".weight") || name.hasSuffix(".running_var") {
                values = [Float](repeating: 1, count: count)
            }
            store.tensors[name] = Tensor(shape: shape, values: values)
        }
    }

    /// Logits [bags, classes] from the primary maps (each [slices, C, H, W]).
    public func forward(_ tape: Tape, _ maps: [Tape.Variable], bagSizes: [Int]) -> Tape.Variable {
        tape.linear(pooled(tape, maps, bagSizes: bagSizes), weight: tape.parameter("fc.weight"), bias: tape.parameter("fc.bias"))
    }

    /// The pooled features [bags, N] going into the classifier.
    public func pooled(_ tape: Tape, _ maps: [Tape.Variable], bagSizes: [Int]) -> Tape.Variable {
        let theta: Tape.Variable? = if case .topK = aggregation { tape.parameter("topk.theta") } else { nil }
        if groups.isEmpty {
            return tape.bagPool(branches.map { maps[$0.source] }, bagSizes: bagSizes, aggregation: aggregation, theta: theta)
        }
        let sw = tape.parameter("msconv.sw")
        var resized: [Int: Tape.Variable] = [:]
        var pooled: [Tape.Variable] = []
        var offset = 0
        for (g, group) in groups.enumerated() {
            let weight = tape.parameter("msconv.convs.\(g).weight"), bias = tape.parameter("msconv.convs.\(g).bias")
            var outputs: [Tape.Variable] = []
            for i in branches(of: group) {
                let branch = branches[i]
                let input = resized[i] ?? {
                    let map = maps[branch.source], shape = tape.value(map).shape
                    let v = tape.resize(map, height: Self.scaled(shape[2], branch.scale), width: Self.scaled(shape[3], branch.scale))
                    resized[i] = v
                    return v
                }()
                let geometry = Conv2DGeometry(stride: 1, padding: branch.dilation * (group.kernel / 2), dilation: branch.dilation)
                let conv = tape.conv2d(input, weight: weight, bias: bias, geometry: geometry)
                let normalized = tape.batchNorm(conv, prefix: "msconv.bns.\(i).\(g)")
                outputs.append(tape.scaleChannels(normalized, by: sw, row: i, offset: offset))
            }
            pooled.append(tape.bagPool(outputs, bagSizes: bagSizes, aggregation: aggregation, theta: theta))
            offset += group.channels
        }
        return tape.concatChannels(pooled)
    }

    /// h = max(1, floor(H s + 0.5)).
    public static func scaled(_ size: Int, _ scale: Double) -> Int {
        scale == 1 ? size : max(1, Int((Double(size) * scale + 0.5).rounded(.down)))
    }
}

extension String {
    func replacingSuffix(_ suffix: String, with replacement: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) + replacement : self
    }
}
