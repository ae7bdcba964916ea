/// Why a chart could not be drawn.
public enum PlotError: Error, CustomStringConvertible {
    case rasterization(reason: String)

    public var description: String {
        switch self {
        case .rasterization(let reason): "could not draw the chart as PNG: \(reason)"
        }
    }
}
