import Foundation

extension HeatmapFigure {
    /// The figure as standalone SVG: the overlay PNG embedded as a data URI (so the file and the HTML
    /// report need nothing beside them), shown at least 256 px tall with its pixels kept sharp; lesion
    /// boxes as outlined rectangles with their frame coordinates on hover; a jet colour bar in 64 steps
    /// with ticks at 0, 128 and 255; the caption above.
    public func svg() -> String {
        let scale = max(1, (256 + Double(height) - 1) / Double(height)).rounded(.down)
        let fontSize = 13.0, top = 26.0
        let (w, h) = (2 * Double(panelWidth) * scale, Double(height) * scale)
        let barX = w + 12, barWidth = 16.0
        let totalWidth = barX + barWidth + 48, totalHeight = top + h + 22
        let n = SVGText.number
        var out = SVGText.header(width: totalWidth, height: totalHeight, fontSize: fontSize, title: caption.isEmpty ? "heatmap" : caption)
        out += "<text x=\"2\" y=\"17\">\(SVGText.escape(caption))</text>\n"
        out += "<image x=\"0\" y=\"\(n(top))\" width=\"\(n(w))\" height=\"\(n(h))\" preserveAspectRatio=\"none\" style=\"image-rendering: pixelated\" "
            + "href=\"data:image/png;base64,\(Data(overlayPNG).base64EncodedString())\"/>\n"
        out += "<text x=\"\(n(w / 4))\" y=\"\(n(top + h + 16))\" text-anchor=\"middle\" fill=\"\(SVGText.hex(.axis))\">gray overlay</text>\n"
        out += "<text x=\"\(n(3 * w / 4))\" y=\"\(n(top + h + 16))\" text-anchor=\"middle\" fill=\"\(SVGText.hex(.axis))\">jet overlay</text>\n"
        for box in boxes {
            for panel in 0..<2 {
                let x = (Double(panel * panelWidth) + Double(box.x0)) * scale, y = top + Double(box.y0) * scale
                out += "<rect class=\"lesion\" x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(Double(box.x1 - box.x0) * scale))\" height=\"\(n(Double(box.y1 - box.y0) * scale))\" "
                    + "fill=\"none\" stroke=\"\(SVGText.hex(Self.boxColor))\" stroke-width=\"2\">"
                    + "<title>lesion: rows \(box.y0) to \(box.y1 - 1), columns \(box.x0) to \(box.x1 - 1)</title></rect>\n"
            }
        }
        let steps = 64
        out += "<g class=\"colorbar\"><title>jet colour scale of P*, 0 (bottom) to 255 (top)</title>\n"
        for k in 0..<steps {
            // Step k covers values k/steps ..< (k+1)/steps and is painted with its midpoint's colour.
            let color = ColorMap.jetColor((Float(k) + 0.5) / Float(steps))
            let y = top + h - Double(k + 1) * h / Double(steps)
            out += "<rect x=\"\(n(barX))\" y=\"\(n(y))\" width=\"\(n(barWidth))\" height=\"\(n(h / Double(steps) + 0.5))\" fill=\"\(SVGText.hex(color))\"/>\n"
        }
        out += "<rect x=\"\(n(barX))\" y=\"\(n(top))\" width=\"\(n(barWidth))\" height=\"\(n(h))\" fill=\"none\" stroke=\"\(SVGText.hex(.axis))\"/>\n"
        for tick in [0, 128, 255] {
            let y = top + h - Double(tick) / 255 * h
            out += "<line x1=\"\(n(barX + barWidth))\" y1=\"\(n(y))\" x2=\"\(n(barX + barWidth + 4))\" y2=\"\(n(y))\" stroke=\"\(SVGText.hex(.axis))\"/>"
                + "<text x=\"\(n(barX + barWidth + 7))\" y=\"\(n(y + 4))\" fill=\"\(SVGText.hex(.axis))\">\(tick)</text>\n"
        }
        out += "</g>\n"
        out += "<text x=\"\(n(barX + barWidth / 2))\" y=\"\(n(top + h + 16))\" text-anchor=\"middle\" fill=\"\(SVGText.hex(.axis))\">P*</text>\n"
        return out + "</svg>\n"
    }
}
