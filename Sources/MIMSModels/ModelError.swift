/// Why a state_dict does not load into a trunk, naming the file and the tensor.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    case missingTensor(file: String, name: String)
    case unexpectedTensor(file: String, name: String)
    case wrongShape(file: String, name: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case let .missingTensor(file, name): "\(file): missing tensor '\(name)'"
        case let .unexpectedTensor(file, name): "\(file): unexpected tensor '\(name)' (not part of the trunk)"
        case let .wrongShape(file, name, expected, found): "\(file): tensor '\(name)' has shape \(found), expected \(expected)"
        }
    }
}
