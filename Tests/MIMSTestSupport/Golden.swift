import Foundation
import MIMSTensor

/// A PyTorch-computed case of Tests/Fixtures/golden (README there) by name.
public func golden(_ name: String) throws -> SafeTensorsFile {
    try SafeTensorsFile(path: repositoryRoot + "/Tests/Fixtures/golden/" + name + ".safetensors")
}

/// The case's parameters (its `case` metadata).
public func caseParameters(_ file: SafeTensorsFile) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(file.metadata["case"]!.utf8)) as! [String: Any]
}

/// ‖a − b‖ / ‖b‖
public func relativeError(_ a: Tensor, _ b: Tensor) -> Double {
    precondition(a.shape == b.shape && a.layout == b.layout, "shapes \(a.shape) and \(b.shape), layouts \(a.layout) and \(b.layout)")
    let (x, y) = (a.floatValues, b.floatValues)
    var num = 0.0, den = 0.0
    for i in 0..<y.count {
        let d = Double(x[i]) - Double(y[i])
        num += d * d
        den += Double(y[i]) * Double(y[i])
    }
    return (num / max(den, 1e-30)).squareRoot()
}
