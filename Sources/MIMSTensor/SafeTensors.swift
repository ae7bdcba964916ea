import Foundation

/// Reads the safetensors format: an 8-byte little-endian header length, a JSON header naming each
/// tensor's dtype, shape and byte range, then the data. Floats of every width are read as Float
/// (F32, F16, BF16, F64); integers (I64, I32) as Int64; 0-d tensors have shape [].
public struct SafeTensorsFile: Sendable {
    public struct Entry: Sendable {
        public var dtype: String
        public var shape: [Int]
        public var range: Range<Int>
    }

    public let path: String
    public let metadata: [String: String]
    public let entries: [String: Entry]
    private let data: [UInt8]
    private let base: Int

    public init(path: String) throws {
        self.path = path
        guard let contents = FileManager.default.contents(atPath: path) else {
            throw SafeTensorsError.invalid(path: path, reason: "cannot read the file")
        }
        data = [UInt8](contents)
        guard data.count >= 8 else { throw SafeTensorsError.invalid(path: path, reason: "shorter than its 8-byte header length") }
        let length = data[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard length <= UInt64(data.count - 8) else {
            throw SafeTensorsError.invalid(path: path, reason: "header length \(length) exceeds the file")
        }
        base = 8 + Int(length)
        guard let header = try? JSONSerialization.jsonObject(with: Data(data[8..<base])) as? [String: Any] else {
            throw SafeTensorsError.invalid(path: path, reason: "header is not a JSON object")
        }
        var metadata: [String: String] = [:]
        var entries: [String: Entry] = [:]
        let sizes = ["F32": 4, "F16": 2, "BF16": 2, "F64": 8, "I64": 8, "I32": 4]
        for (name, value) in header {
            if name == "__metadata__" {
                metadata = (value as? [String: String]) ?? [:]
                continue
            }
            guard let object = value as? [String: Any], let dtype = object["dtype"] as? String, let shape = object["shape"] as? [Int],
                  let offsets = object["data_offsets"] as? [Int], offsets.count == 2 else {
                throw SafeTensorsError.invalid(path: path, reason: "tensor '\(name)' has a malformed header entry")
            }
            guard let size = sizes[dtype] else { throw SafeTensorsError.unsupported(path: path, tensor: name, dtype: dtype) }
            let count = shape.reduce(1, *)
            guard shape.allSatisfy({ $0 >= 0 }), offsets[0] >= 0, offsets[1] - offsets[0] == count * size, base + offsets[1] <= data.count else {
                throw SafeTensorsError.invalid(path: path, reason: "tensor '\(name)': \(shape) \(dtype) does not match its byte range \(offsets)")
            }
            entries[name] = Entry(dtype: dtype, shape: shape, range: (base + offsets[0])..<(base + offsets[1]))
        }
        self.metadata = metadata
        self.entries = entries
    }

    /// A floating-point tensor as Float32.
    public func tensor(_ name: String) throws -> Tensor {
        guard let entry = entries[name] else { throw SafeTensorsError.missing(path: path, tensor: name) }
        let count = entry.shape.reduce(1, *)
        var values = [Float](repeating: 0, count: count)
        data.withUnsafeBytes { raw in
            let start = raw.baseAddress! + entry.range.lowerBound
            for i in 0..<count {
                switch entry.dtype {
                case "F32": values[i] = Float(bitPattern: UInt32(littleEndian: start.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                case "F64": values[i] = Float(Double(bitPattern: UInt64(littleEndian: start.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
                case "BF16": values[i] = Float(bitPattern: UInt32(UInt16(littleEndian: start.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
                case "F16": values[i] = Self.half(UInt16(littleEndian: start.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                case "I64": values[i] = Float(Int64(littleEndian: start.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
                default: values[i] = Float(Int32(littleEndian: start.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
                }
            }
        }
        return Tensor(shape: entry.shape, values: values)
    }

    /// An integer tensor (I64 or I32).
    public func integers(_ name: String) throws -> [Int64] {
        guard let entry = entries[name] else { throw SafeTensorsError.missing(path: path, tensor: name) }
        guard entry.dtype == "I64" || entry.dtype == "I32" else {
            throw SafeTensorsError.invalid(path: path, reason: "tensor '\(name)' is \(entry.dtype), not an integer type")
        }
        let count = entry.shape.reduce(1, *)
        return data.withUnsafeBytes { raw in
            let start = raw.baseAddress! + entry.range.lowerBound
            return (0..<count).map { i in
                entry.dtype == "I64" ? Int64(littleEndian: start.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))
                    : Int64(Int32(littleEndian: start.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
            }
        }
    }

    /// IEEE half to float, subnormals and infinities included.
    static func half(_ bits: UInt16) -> Float {
        let sign = UInt32(bits >> 15) << 31
        let exponent = Int((bits >> 10) & 0x1F), mantissa = UInt32(bits & 0x3FF)
        if exponent == 0 {
            let value = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign != 0 ? -value : value
        }
        if exponent == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }
        return Float(bitPattern: sign | UInt32(exponent + 112) << 23 | (mantissa << 13))
    }
}

/// Writes safetensors files (F32 tensors and I64 integer tensors, with metadata).
public enum SafeTensorsWriter {
    public static func write(_ tensors: [String: Tensor], integers: [String: (shape: [Int], values: [Int64])] = [:],
                             metadata: [String: String] = [:], to path: String) throws {
        var header: [String: Any] = metadata.isEmpty ? [:] : ["__metadata__": metadata]
        var body = [UInt8]()
        for name in tensors.keys.sorted() {
            let tensor = tensors[name]!
            header[name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [body.count, body.count + 4 * tensor.count]]
            for value in tensor.values { withUnsafeBytes(of: value.bitPattern.littleEndian) { body.append(contentsOf: $0) } }
        }
        for name in integers.keys.sorted() {
            let (shape, values) = integers[name]!
            header[name] = ["dtype": "I64", "shape": shape, "data_offsets": [body.count, body.count + 8 * values.count]]
            for value in values { withUnsafeBytes(of: value.littleEndian) { body.append(contentsOf: $0) } }
        }
        var json = [UInt8](try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
        while json.count % 8 != 0 { json.append(0x20) }
        var out = [UInt8]()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out += json + body
        guard FileManager.default.createFile(atPath: path, contents: Data(out)) else {
            throw SafeTensorsError.invalid(path: path, reason: "cannot write the file")
        }
    }
}

public enum SafeTensorsError: Error, CustomStringConvertible, Equatable {
    case invalid(path: String, reason: String)
    case missing(path: String, tensor: String)
    case unsupported(path: String, tensor: String, dtype: String)

    public var description: String {
        switch self {
        case let .invalid(path, reason): "\(path): not a valid safetensors file: \(reason)"
        case let .missing(path, tensor): "\(path): no tensor named '\(tensor)'"
        case let .unsupported(path, tensor, dtype): "\(path): tensor '\(tensor)' has unsupported dtype \(dtype)"
        }
    }
}
