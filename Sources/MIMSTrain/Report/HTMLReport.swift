/// Turns the report's markdown (headings, paragraphs, lists, tables, images, code blocks, bold) into one
/// standalone HTML page with inline CSS: no scripts, no network. A figure whose `svg` is known is
/// drawn inline as SVG, with a link to its PNG for print.
enum HTMLReport {
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// Inline markup: **bold**, `code`, ![alt](src).
    static func inline(_ text: String) -> String {
        var out = escape(text)
        while let open = out.range(of: "**"), let close = out.range(of: "**", range: open.upperBound..<out.endIndex) {
            out = out.replacingCharacters(in: open.lowerBound..<close.upperBound, with: "<strong>" + out[open.upperBound..<close.lowerBound] + "</strong>")
        }
        while let open = out.range(of: "`"), let close = out.range(of: "`", range: open.upperBound..<out.endIndex) {
            out = out.replacingCharacters(in: open.lowerBound..<close.upperBound, with: "<code>" + out[open.upperBound..<close.lowerBound] + "</code>")
        }
        return out
    }

    static func render(title: String, markdownLike md: String, svg: (String) -> String? = { _ in nil }) -> String {
        var body = ""
        var table: [[String]] = []
        var code: [String]?
        var list: [String] = []
        func flushList() {
            guard !list.isEmpty else { return }
            body += "<ul>\n" + list.map { "<li>\(inline($0))</li>\n" }.joined() + "</ul>\n"
            list = []
        }
        func flushTable() {
            guard !table.isEmpty else { return }
            body += "<table>\n<tr>" + table[0].map { "<th>\(inline($0))</th>" }.joined() + "</tr>\n"
            for row in table.dropFirst() where !row.allSatisfy({ $0.allSatisfy { "-: ".contains($0) } }) {
                body += "<tr>" + row.map { "<td>\(inline($0))</td>" }.joined() + "</tr>\n"
            }
            body += "</table>\n"
            table = []
        }
        for raw in md.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            if code != nil {
                if line.hasPrefix("```") { body += "<pre>" + escape(code!.joined(separator: "\n")) + "</pre>\n"; code = nil } else { code!.append(line) }
                continue
            }
            if line.hasPrefix("- ") { flushTable(); list.append(String(line.dropFirst(2))); continue }
            flushList()
            if line.hasPrefix("```") { flushTable(); code = []; continue }
            if line.hasPrefix("|") {
                table.append(line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast().map { $0.trimmingCharacters(in: .whitespaces) })
                continue
            }
            flushTable()
            if line.hasPrefix("### ") { body += "<h3>\(inline(String(line.dropFirst(4))))</h3>\n" }
            else if line.hasPrefix("## ") { body += "<h2>\(inline(String(line.dropFirst(3))))</h2>\n" }
            else if line.hasPrefix("# ") { body += "<h1>\(inline(String(line.dropFirst(2))))</h1>\n" }
            else if line.hasPrefix("!["), let mid = line.range(of: "]("), line.hasSuffix(")") {
                let alt = String(line[line.index(line.startIndex, offsetBy: 2)..<mid.lowerBound])
                let src = String(line[mid.upperBound..<line.index(before: line.endIndex)])
                if let drawing = svg(src) {
                    body += "<figure class=\"chart\">\(drawing)<figcaption>\(escape(alt)) (<a href=\"\(escape(src))\">PNG for print</a>)</figcaption></figure>\n"
                } else {
                    body += "<figure><img src=\"\(escape(src))\" alt=\"\(escape(alt))\"><figcaption>\(escape(alt))</figcaption></figure>\n"
                }
            } else if !line.trimmingCharacters(in: .whitespaces).isEmpty {
                body += "<p>\(inline(line))</p>\n"
            }
        }
        flushTable()
        flushList()
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
        <style>
        body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
        h1 { border-bottom: 2px solid #1f77b4; padding-bottom: .3em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; }
        table { border-collapse: collapse; margin: 1em 0; } th, td { border: 1px solid #ccc; padding: .35em .7em; text-align: left; }
        th { background: #f3f6fa; } pre { background: #f6f8fa; padding: 1em; overflow-x: auto; }
        figure { display: inline-block; margin: .5em 1em .5em 0; vertical-align: top; } figcaption { font-size: .8em; color: #555; max-width: 640px; word-break: break-all; }
        img { max-width: 100%; border: 1px solid #ddd; } figure.chart svg { max-width: 100%; height: auto; border: 1px solid #ddd; }
        </style></head>
        <body>
        \(body)</body></html>

        """
    }
}
