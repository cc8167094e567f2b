import CLibXML2
public import SDataCore

/// Streams records out of an XML document with libxml2's pull reader (`xmlTextReader`): memory holds the current
/// element path and one record, never a tree, whatever the file size.
///
/// A record is every element whose path ends with ``recordPath`` (`row` matches any `row`; `response/body/items/item`
/// matches that chain). Each leaf below it becomes a field named by its path relative to the record (`name`, or
/// `address/city` when nested); attributes become fields named `@attr` (or `child@attr`). Empty elements are `null`.
/// The document's own encoding declaration is honoured (EUC-KR feeds work), a BOM is skipped, external entities and
/// network access are disabled.
public final class XMLRecordReader {
    private let reader: xmlTextReaderPtr
    private let label: String
    private let recordPath: [String]
    private let errors = XMLErrorBox()
    // The reader is used by one task at a time (a source's run): its per-node state skips the runtime's dynamic
    // exclusivity checks, which cost more than the parsing itself on large documents.
    @exclusivity(unchecked) private var stack: [String] = []
    @exclusivity(unchecked) private var recordDepth: Int?
    @exclusivity(unchecked) private var fields: [(String, Value)] = []
    @exclusivity(unchecked) private var texts: [String] = []
    @exclusivity(unchecked) private var hasChildren: [Bool] = []
    @exclusivity(unchecked) private var fieldCapacity = 8

    /// Opens the file at `path`.
    public init(path: String, recordPath: String) throws(SourceError) {
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOCDATA.rawValue | XML_PARSE_COMPACT.rawValue)
        guard let reader = xmlReaderForFile(path, nil, options) else {
            throw SourceError("cannot open XML file '\(path)'")
        }
        self.reader = reader
        label = path
        self.recordPath = recordPath.split(separator: "/").map(String.init)
        installErrorHandler()
    }

    /// Reads a document held in memory (an HTTP body); `label` names it in errors.
    public init(bytes: [UInt8], label: String, recordPath: String) throws(SourceError) {
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOCDATA.rawValue | XML_PARSE_COMPACT.rawValue)
        let pointer = bytes.withUnsafeBufferPointer { buffer in
            // libxml2 copies nothing: keep the bytes alive by copying them into a buffer it owns.
            let copy = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, buffer.count))
            buffer.withMemoryRebound(to: CChar.self) { source in
                if let base = source.baseAddress { copy.initialize(from: base, count: source.count) }
            }
            return copy
        }
        ownedMemory = pointer
        guard let reader = xmlReaderForMemory(pointer, Int32(bytes.count), label, nil, options) else {
            pointer.deallocate()
            throw SourceError("cannot read XML from \(label)")
        }
        self.reader = reader
        self.label = label
        self.recordPath = recordPath.split(separator: "/").map(String.init)
        installErrorHandler()
    }

    private var ownedMemory: UnsafeMutablePointer<CChar>?

    deinit {
        xmlFreeTextReader(reader)
        ownedMemory?.deallocate()
    }

    private func installErrorHandler() {
        // Without a handler libxml2 prints errors, with a copy of the offending line, to stderr: that could leak
        // record values. The handler keeps only the message and line number.
        let box = Unmanaged.passUnretained(errors).toOpaque()
        xmlTextReaderSetStructuredErrorHandler(reader, { context, error in
            guard let context, let error else { return }
            let box = Unmanaged<XMLErrorBox>.fromOpaque(context).takeUnretainedValue()
            guard box.message == nil, error.pointee.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
            let text = error.pointee.message.map { String(cString: $0) } ?? "malformed XML"
            box.message = text.trimmingWhitespace()
            box.line = Int(error.pointee.line)
        }, box)
    }

    /// The next record's fields in document order, or `nil` at the end of the document.
    public func next() throws(SourceError) -> [(String, Value)]? {
        while true {
            let status = xmlTextReaderRead(reader)
            if status == 0 {
                if let recordDepth, recordDepth <= stack.count {
                    throw SourceError("\(label): the document ends inside a record (truncated?)")
                }
                return nil
            }
            if status < 0 {
                let line = errors.line.map { ":\($0)" } ?? ""
                throw SourceError("\(label)\(line): malformed XML: \(errors.message ?? "parse error") (truncated?)")
            }
            switch xmlTextReaderNodeType(reader) {
            case Int32(XML_READER_TYPE_ELEMENT.rawValue):
                let name = currentName()
                let isEmpty = xmlTextReaderIsEmptyElement(reader) == 1
                startElement(name)
                if isEmpty, let record = endElement() { return record }
            case Int32(XML_READER_TYPE_TEXT.rawValue), Int32(XML_READER_TYPE_CDATA.rawValue),
                 Int32(XML_READER_TYPE_SIGNIFICANT_WHITESPACE.rawValue):
                if recordDepth != nil, !texts.isEmpty, let value = xmlTextReaderConstValue(reader) {
                    // Usually the element's only text node: assigned, not appended to an empty string.
                    if texts[texts.count - 1].isEmpty {
                        texts[texts.count - 1] = String(cString: value)
                    } else {
                        texts[texts.count - 1] += String(cString: value)
                    }
                }
            case Int32(XML_READER_TYPE_END_ELEMENT.rawValue):
                if let record = endElement() { return record }
            default:
                break
            }
        }
    }

    /// Reads the whole (small) document into a tree: an API page whose envelope matters as much as its rows.
    ///
    /// Elements with children become objects (repeated names an array, in first-seen position), attributes `@name`
    /// members, leaves their text (`null` when empty or only white space); the result is an object holding the root
    /// element, so `<response><body>…` reads like the same API's JSON (`response.body…`).
    public func readDocument() throws(SourceError) -> JSONValue {
        var stack: [(name: String, members: [(String, JSONValue)], text: String)] = [("", [], "")]
        func close() {
            let top = stack.removeLast()
            let blank = top.text.allSatisfy(\.isWhitespace)
            let value: JSONValue
            if top.members.isEmpty {
                value = blank ? .null : .string(top.text)
            } else {
                var members = XMLRecordReader.grouped(top.members)
                if !blank { members.append(("value", .string(top.text))) }
                value = .object(members)
            }
            stack[stack.count - 1].members.append((top.name, value))
        }
        while true {
            let status = xmlTextReaderRead(reader)
            if status == 0 { break }
            if status < 0 {
                let line = errors.line.map { ":\($0)" } ?? ""
                throw SourceError("\(label)\(line): malformed XML: \(errors.message ?? "parse error") (truncated?)",
                                  retryable: true)
            }
            switch xmlTextReaderNodeType(reader) {
            case Int32(XML_READER_TYPE_ELEMENT.rawValue):
                let name = currentName()
                let isEmpty = xmlTextReaderIsEmptyElement(reader) == 1
                var attributes: [(String, JSONValue)] = []
                if xmlTextReaderHasAttributes(reader) == 1 {
                    while xmlTextReaderMoveToNextAttribute(reader) == 1 {
                        let attribute = currentName()
                        if attribute == "xmlns" || currentPrefix() == "xmlns" { continue }
                        let value = xmlTextReaderConstValue(reader).map { String(cString: $0) } ?? ""
                        attributes.append(("@" + attribute, value.isEmpty ? .null : .string(value)))
                    }
                    xmlTextReaderMoveToElement(reader)
                }
                stack.append((name, attributes, ""))
                if isEmpty { close() }
            case Int32(XML_READER_TYPE_TEXT.rawValue), Int32(XML_READER_TYPE_CDATA.rawValue),
                 Int32(XML_READER_TYPE_SIGNIFICANT_WHITESPACE.rawValue):
                if let value = xmlTextReaderConstValue(reader) { stack[stack.count - 1].text += String(cString: value) }
            case Int32(XML_READER_TYPE_END_ELEMENT.rawValue):
                if stack.count > 1 { close() }
            default:
                break
            }
        }
        guard stack.count == 1, let root = stack.first?.members.first else {
            throw SourceError("\(label): the XML document is empty or ends inside an element (truncated?)", retryable: true)
        }
        return .object([root])
    }

    /// Repeated member names gathered into one array at the first one's position.
    static func grouped(_ members: [(String, JSONValue)]) -> [(String, JSONValue)] {
        var order: [String] = []
        var values: [String: [JSONValue]] = [:]
        for (name, value) in members {
            if values[name] == nil { order.append(name) }
            values[name, default: []].append(value)
        }
        return order.map { name in
            let all = values[name]!
            return (name, all.count == 1 ? all[0] : .array(all))
        }
    }

    /// Pushes an element, starting a record when the path matches.
    private func startElement(_ name: String) {
        stack.append(name)
        if recordDepth == nil {
            guard stack.count >= recordPath.count, stack.suffix(recordPath.count).elementsEqual(recordPath) else { return }
            recordDepth = stack.count
            // The previous record's array went to the caller: start a new one of the same size at once.
            fields = []
            fields.reserveCapacity(fieldCapacity)
            texts.removeAll(keepingCapacity: true)
            texts.append("")
            hasChildren.removeAll(keepingCapacity: true)
            hasChildren.append(false)
            readAttributes(prefix: "")
            return
        }
        hasChildren[hasChildren.count - 1] = true
        texts.append("")
        hasChildren.append(false)
        if xmlTextReaderHasAttributes(reader) == 1 { readAttributes(prefix: relativePath()) }
    }

    /// Pops an element; returns the record when it closes one.
    private func endElement() -> [(String, Value)]? {
        defer { stack.removeLast() }
        guard let depth = recordDepth else { return nil }
        let text = texts.removeLast()
        let leaf = !hasChildren.removeLast()
        if stack.count == depth {
            recordDepth = nil
            fieldCapacity = max(fieldCapacity, fields.count + 1)
            if leaf, !text.isEmpty { fields.insert(("value", .string(text)), at: 0) }
            return fields
        }
        if leaf {
            fields.append((relativePath(), text.isEmpty ? .null : .string(text)))
        }
        return nil
    }

    private func relativePath() -> String {
        guard let depth = recordDepth else { return "" }
        // Most fields are direct children of the record: no joining needed.
        if stack.count == depth + 1 { return stack[depth] }
        return stack[depth...].joined(separator: "/")
    }

    private func readAttributes(prefix: String) {
        guard xmlTextReaderHasAttributes(reader) == 1 else { return }
        while xmlTextReaderMoveToNextAttribute(reader) == 1 {
            let name = currentName()
            if name == "xmlns" || currentPrefix() == "xmlns" { continue }
            let value = xmlTextReaderConstValue(reader).map { String(cString: $0) } ?? ""
            fields.append((prefix + "@" + name, value.isEmpty ? .null : .string(value)))
        }
        xmlTextReaderMoveToElement(reader)
    }

    /// Element and attribute names come from libxml2's dictionary, one pointer per distinct name: decode each once,
    /// found again by pointer in a small direct-mapped cache (no hashing), then in a dictionary.
    @exclusivity(unchecked) private var names: [UnsafePointer<xmlChar>: String] = [:]
    @exclusivity(unchecked) private var recentNames = [(pointer: UnsafePointer<xmlChar>?, name: String)](
        repeating: (nil, ""), count: 64)

    private func currentName() -> String {
        guard let pointer = xmlTextReaderConstLocalName(reader) else { return "" }
        let slot = Int(bitPattern: UInt(bitPattern: pointer) >> 3) & 63
        if recentNames[slot].pointer == pointer { return recentNames[slot].name }
        let name: String
        if let known = names[pointer] {
            name = known
        } else {
            name = String(cString: pointer)
            if names.count < 10_000 { names[pointer] = name }
        }
        recentNames[slot] = (pointer, name)
        return name
    }

    private func currentPrefix() -> String? {
        xmlTextReaderConstPrefix(reader).map { String(cString: $0) }
    }
}

/// Where the C error callback leaves the first error of a document.
private final class XMLErrorBox {
    var message: String?
    var line: Int?
}

extension String {
    /// The text without leading and trailing white space.
    public func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
