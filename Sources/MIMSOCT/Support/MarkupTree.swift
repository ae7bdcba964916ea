import CXML2

/// An XML document parsed by libxml2 into plain Swift values: elements with their line, attributes,
/// direct text and children.
///
/// libxml2 rather than a hand-written scanner: exports come from Windows tools in several
/// encodings, with CDATA, comments and character references, and a real parser gets all of them
/// right. The parser runs with no network access, no entity substitution and libxml2's default
/// depth and text-size limits; a document with a DOCTYPE is refused before parsing, because export
/// files never carry one and a DTD is the door for entity expansion attacks.
struct MarkupElement: Sendable {
    var name: String
    /// 1-based line of the element's start tag.
    var line: Int
    var attributes: [String: String]
    /// The element's own text (text and CDATA children), trimmed of surrounding white space.
    var text: String
    var children: [MarkupElement]

    /// The first child named `name`.
    func child(_ name: String) -> MarkupElement? { children.first { $0.name == name } }

    /// Every child named `name`, in document order.
    func children(_ name: String) -> [MarkupElement] { children.filter { $0.name == name } }

    /// The element at a `/`-separated path of child names, each step taking the first match.
    func at(_ path: String) -> MarkupElement? {
        var node: MarkupElement? = self
        for step in path.split(separator: "/") { node = node?.child(String(step)) }
        return node
    }

    /// The text at `path`, nil when the element is absent or empty.
    func text(at path: String) -> String? {
        guard let text = at(path)?.text, !text.isEmpty else { return nil }
        return text
    }
}

enum MarkupTree {
    /// The largest document accepted; real Heyex XML files are a few MB even with layer lines.
    static let maxBytes = 256 << 20
    /// The most elements kept, so a document of a million empty tags cannot balloon the tree.
    static let maxElements = 4_000_000

    private static let initialized: Bool = {
        xmlInitParser()
        return true
    }()

    /// Parses `bytes` (the file `file`) into its root element. Throws ``OCTError/markup`` naming
    /// the line libxml2 stopped at and its message.
    static func parse(_ bytes: UnsafeRawBufferPointer, file: String) throws -> MarkupElement {
        _ = initialized
        guard bytes.count <= maxBytes else {
            throw OCTError.invalidField(file: file, field: "file size", offset: 0, value: "\(bytes.count)",
                                       reason: "an XML export larger than \(maxBytes) bytes is not a Heyex export")
        }
        guard bytes.count > 0 else { throw OCTError.empty(file: file) }
        if let at = find(Array("<!DOCTYPE".utf8), in: bytes) {
            throw OCTError.markup(file: file, line: lineNumber(of: at, in: bytes), element: "DOCTYPE",
                                  reason: "document type declarations are not accepted (exports carry none; they allow entity expansion)")
        }
        guard let context = xmlNewParserCtxt() else {
            throw OCTError.unreadable(file: file, reason: "cannot allocate an XML parser")
        }
        defer { xmlFreeParserCtxt(context) }
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue | XML_PARSE_NOCDATA.rawValue)
        // libxml2 goes on after the first fatal error and keeps only the last; the first is the
        // one a user can act on. Its structured-error hook is per thread in Debian's threaded build.
        let first = FirstError()
        xmlSetStructuredErrorFunc(Unmanaged.passUnretained(first).toOpaque()) { context, error in
            guard let context, let error, error.pointee.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
            let first = Unmanaged<FirstError>.fromOpaque(context).takeUnretainedValue()
            if first.message == nil {
                first.message = error.pointee.message.map { String(cString: $0) }?.trimmingCharacters() ?? "not well-formed"
                first.line = Int(error.pointee.line)
            }
        }
        let document = withExtendedLifetime(first) {
            bytes.withMemoryRebound(to: CChar.self) { chars in
                xmlCtxtReadMemory(context, chars.baseAddress, Int32(chars.count), nil, nil, options)
            }
        }
        xmlSetStructuredErrorFunc(nil, nil)
        guard let document else {
            if let message = first.message {
                throw OCTError.markup(file: file, line: first.line, element: "document", reason: "not well-formed XML: \(message)")
            }
            if let error = xmlCtxtGetLastError(context) {
                let message = error.pointee.message.map { String(cString: $0) }?.trimmingCharacters() ?? "not well-formed"
                throw OCTError.markup(file: file, line: Int(error.pointee.line), element: "document", reason: "not well-formed XML: \(message)")
            }
            throw OCTError.markup(file: file, line: 0, element: "document", reason: "not well-formed XML")
        }
        defer { xmlFreeDoc(document) }
        guard let root = xmlDocGetRootElement(document) else {
            throw OCTError.markup(file: file, line: 1, element: "document", reason: "no root element")
        }
        var budget = maxElements
        return try convert(root, file: file, budget: &budget)
    }

    private static func convert(_ node: xmlNodePtr, file: String, budget: inout Int) throws -> MarkupElement {
        budget -= 1
        guard budget >= 0 else {
            throw OCTError.markup(file: file, line: Int(xmlGetLineNo(node)), element: name(of: node),
                                  reason: "more than \(maxElements) elements: not a Heyex export")
        }
        var element = MarkupElement(name: name(of: node), line: Int(xmlGetLineNo(node)), attributes: [:], text: "", children: [])
        var attribute = node.pointee.properties
        while let current = attribute {
            let key = current.pointee.name.map { String(cString: $0) } ?? ""
            // An attribute's value is its text children (entity references are never substituted).
            var value = "", part = current.pointee.children
            while let text = part {
                if let content = text.pointee.content { value += String(cString: content) }
                part = text.pointee.next
            }
            element.attributes[key] = value
            attribute = current.pointee.next
        }
        var text = ""
        var child = node.pointee.children
        while let current = child {
            switch current.pointee.type {
            case XML_ELEMENT_NODE: element.children.append(try convert(current, file: file, budget: &budget))
            case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
                if let content = current.pointee.content { text += String(cString: content) }
            default: break
            }
            child = current.pointee.next
        }
        element.text = text.trimmingCharacters()
        return element
    }

    private static func name(of node: xmlNodePtr) -> String {
        node.pointee.name.map { String(cString: $0) } ?? ""
    }

    static func find(_ needle: [UInt8], in bytes: UnsafeRawBufferPointer) -> Int? {
        guard bytes.count >= needle.count else { return nil }
        var i = 0
        while i <= bytes.count - needle.count {
            if bytes[i] == needle[0] {
                var j = 1
                while j < needle.count && bytes[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }

    static func lineNumber(of offset: Int, in bytes: UnsafeRawBufferPointer) -> Int {
        var line = 1
        for i in 0..<min(offset, bytes.count) where bytes[i] == 0x0A { line += 1 }
        return line
    }
}

/// The first error libxml2 reports while parsing one document.
private final class FirstError {
    var message: String?
    var line = 0
}

extension String {
    /// Without leading and trailing spaces, tabs and line breaks.
    func trimmingCharacters() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        var view = Substring(self)
        while let first = view.first, isSpace(first) { view.removeFirst() }
        while let last = view.last, isSpace(last) { view.removeLast() }
        return String(view)
    }
}
