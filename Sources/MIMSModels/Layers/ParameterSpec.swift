import MIMSCore
import MIMSTensor
#if canImport(Glibc)
import Glibc
#endif

/// One tensor a layer owns: its full name, its shape and how a new model fills it.
public struct ParameterSpec: Sendable, Equatable {
    public enum Initialization: Sendable, Equatable {
        case constant(Float)
        /// N(0, std²), each value from two uniform draws (Box-Muller).
        case normal(std: Double)
        /// U(−bound, bound), one draw per value.
        case uniform(bound: Double)
        /// Value i is i · step (top-k's θ_r = (r − 1) ln 0.5).
        case ramp(step: Double)
    }

    public let name: String
    public let shape: [Int]
    public let initialization: Initialization

    public init(_ name: String, _ shape: [Int], _ initialization: Initialization) {
        self.name = name
        self.shape = shape
        self.initialization = initialization
    }

    func values(_ random: inout SplitMix64) -> [Float] {
        let count = shape.reduce(1, *)
        switch initialization {
        case .constant(let value): return [Float](repeating: value, count: count)
        case .normal(let std): return (0..<count).map { _ in Float(std * Self.gaussian(&random)) }
        case .uniform(let bound): return (0..<count).map { _ in Float((random.unit() * 2 - 1) * bound) }
        case .ramp(let step): return (0..<count).map { Float(Double($0) * step) }
        }
    }

    static func gaussian(_ random: inout SplitMix64) -> Double {
        let u = max(random.unit(), 1e-300), v = random.unit()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
}

extension [ParameterSpec] {
    /// Name → shape, as a state_dict's shapes.
    public var shapes: [String: [Int]] { Dictionary(uniqueKeysWithValues: map { ($0.name, $0.shape) }) }

    /// Fills `store` with fresh tensors drawn from one stream seeded by `seed`, in name order, so a
    /// model's initialization depends on its names and shapes only, not on how its layers are listed.
    public func initialize(_ store: ParameterStore, seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for spec in sorted(by: { $0.name < $1.name }) {
            store.tensors[spec.name] = Tensor(shape: spec.shape, values: spec.values(&random))
        }
    }
}
