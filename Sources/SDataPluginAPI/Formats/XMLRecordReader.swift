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
    @exclusivity(unchecked) private var chunk = XMLRecordChunk()
    @exclusivity(unchecked) private var finished = false
    /// The open elements' name ids, root first.
    @exclusivity(unchecked) private var stack: [Int32] = []
    /// The stack's depth at the current record's element, while inside one.
    @exclusivity(unchecked) private var recordDepth: Int?
    /// Per open element below the record (the record first): whether it has had a child element.
    @exclusivity(unchecked) private var hasChildren: [Bool] = []
    /// Where the innermost element's text starts in the chunk's bytes.
    @exclusivity(unchecked) private var textStart = 0
    /// The chunk entry where the current record's fields start.
    @exclusivity(unchecked) private var recordStart = 0

    /// Opens the file at `path`.
    public init(path: String, recordPath: String) throws(SourceError) {
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOCDATA.rawValue | XML_PARSE_COMPACT.rawValue)
        guard let reader = xmlReaderForFile(path, nil, options) else {
            throw SourceError("cannot open XML file '\(path)'")
        }
        self.reader = reader
        label = path
        self.recordPath = recordPath.split(separator: "/").map(String.init)
        recordPathIDs = Array(repeating: -1, count: self.recordPath.count)
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
        recordPathIDs = Array(repeating: -1, count: self.recordPath.count)
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
        guard let chunk = try nextChunk(limit: 1) else { return nil }
        return chunk.record(at: 0)
    }

    /// Up to `limit` records, or `nil` at the end of the document.
    ///
    /// The records stay bytes (one buffer, each field a name id and a byte range) until ``XMLRecordChunk/record(at:)``
    /// decodes them: the parsing thread of a ``RecordPump`` then does little besides libxml2's own work, and the
    /// strings are made on the other core.
    public func nextChunk(limit: Int) throws(SourceError) -> XMLRecordChunk? {
        while chunk.count < limit, !finished {
            try readRecord()
        }
        guard chunk.count > 0 else { return nil }
        var full = XMLRecordChunk()
        full.reserve(like: chunk)
        swap(&full, &chunk)
        full.names = fieldNames
        return full
    }

    /// Reads nodes until a record closes or the document ends.
    private func readRecord() throws(SourceError) {
        while true {
            let status = xmlTextReaderRead(reader)
            if status == 0 {
                finished = true
                if let recordDepth, recordDepth <= stack.count {
                    throw SourceError("\(label): the document ends inside a record (truncated?)")
                }
                return
            }
            if status < 0 {
                finished = true
                let line = errors.line.map { ":\($0)" } ?? ""
                throw SourceError("\(label)\(line): malformed XML: \(errors.message ?? "parse error") (truncated?)")
            }
            switch xmlTextReaderNodeType(reader) {
            case Int32(XML_READER_TYPE_ELEMENT.rawValue):
                let name = currentNameID()
                let isEmpty = xmlTextReaderIsEmptyElement(reader) == 1
                startElement(name)
                if isEmpty, endElement() { return }
            case Int32(XML_READER_TYPE_TEXT.rawValue), Int32(XML_READER_TYPE_CDATA.rawValue),
                 Int32(XML_READER_TYPE_SIGNIFICANT_WHITESPACE.rawValue):
                // Only a leaf's text is kept: an element's text is dropped once it has a child.
                if recordDepth != nil, hasChildren.last == false, let value = xmlTextReaderConstValue(reader) {
                    chunk.appendText(value)
                }
            case Int32(XML_READER_TYPE_END_ELEMENT.rawValue):
                if endElement() { return }
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
    private func startElement(_ name: Int32) {
        stack.append(name)
        if recordDepth == nil {
            guard matchesRecordPath() else { return }
            recordDepth = stack.count
            recordStart = chunk.entryCount
            hasChildren.removeAll(keepingCapacity: true)
            hasChildren.append(false)
            readAttributes()
            textStart = chunk.byteCount
            return
        }
        if !hasChildren[hasChildren.count - 1] {
            hasChildren[hasChildren.count - 1] = true
            chunk.truncateBytes(to: textStart)
        }
        hasChildren.append(false)
        if xmlTextReaderHasAttributes(reader) == 1 { readAttributes() }
        textStart = chunk.byteCount
    }

    /// Pops an element; returns whether it closed a record.
    private func endElement() -> Bool {
        defer { stack.removeLast() }
        guard let depth = recordDepth else { return false }
        let leaf = !hasChildren.removeLast()
        if stack.count == depth {
            recordDepth = nil
            if leaf, chunk.byteCount > textStart {
                chunk.insertField(fieldID(attribute: nil, value: true), from: textStart, at: recordStart)
            }
            chunk.endRecord()
            return true
        }
        if leaf { chunk.appendField(fieldID(attribute: nil), from: textStart) }
        return false
    }

    /// Whether the open elements end with the record path (compared by name id).
    private func matchesRecordPath() -> Bool {
        guard stack.count >= recordPathIDs.count else { return false }
        var position = stack.count - recordPathIDs.count
        for id in recordPathIDs {
            guard id == stack[position] else { return false }
            position += 1
        }
        return true
    }

    private func readAttributes() {
        guard xmlTextReaderHasAttributes(reader) == 1 else { return }
        while xmlTextReaderMoveToNextAttribute(reader) == 1 {
            let name = currentNameID()
            if nameTexts[Int(name)] == "xmlns" || currentPrefix() == "xmlns" { continue }
            let start = chunk.byteCount
            if let value = xmlTextReaderConstValue(reader) { chunk.appendText(value) }
            chunk.appendField(fieldID(attribute: name), from: start)
        }
        xmlTextReaderMoveToElement(reader)
    }

    // MARK: Names

    /// Element and attribute local names by id.
    @exclusivity(unchecked) private var nameTexts: [String] = []
    @exclusivity(unchecked) private var nameIDs: [String: Int32] = [:]
    /// The record path's components as name ids (-1 until the name is first seen).
    @exclusivity(unchecked) private var recordPathIDs: [Int32] = []
    /// Field names (paths relative to the record) by id; a chunk carries the table as it was when it was taken.
    @exclusivity(unchecked) private var fieldNames: [String] = []
    /// The field id of a direct child of the record, by its name id (-1: none yet): the common case, without hashing.
    @exclusivity(unchecked) private var childFields: [Int32] = []
    /// Field ids of the other fields (deeper paths, attributes, the record's own text) by their key: the path's name
    /// ids, then the attribute's as `-2 - id`, or `[-1]` for the record's text.
    @exclusivity(unchecked) private var otherFields: [[Int32]: Int32] = [:]

    /// The id of the field at the current element (or its attribute `attribute`, or the record's own text).
    private func fieldID(attribute: Int32?, value: Bool = false) -> Int32 {
        let depth = recordDepth ?? stack.count
        if attribute == nil, !value, stack.count == depth + 1 {
            let name = Int(stack[depth])
            if name < childFields.count, childFields[name] >= 0 { return childFields[name] }
            let id = newField(nameTexts[name])
            if childFields.count <= name { childFields += repeatElement(-1, count: name + 1 - childFields.count) }
            childFields[name] = id
            return id
        }
        var key = value ? [-1] : Array(stack[depth...])
        if let attribute { key.append(-2 - attribute) }
        if let known = otherFields[key] { return known }
        var text = value ? "value" : stack[depth...].map { nameTexts[Int($0)] }.joined(separator: "/")
        if let attribute { text += "@" + nameTexts[Int(attribute)] }
        let id = newField(text)
        otherFields[key] = id
        return id
    }

    private func newField(_ name: String) -> Int32 {
        fieldNames.append(name)
        return Int32(fieldNames.count - 1)
    }

    /// Names come from libxml2's dictionary, one pointer per distinct name: decoded once, then found by pointer in a
    /// small direct-mapped cache (no hashing), or else in a dictionary.
    @exclusivity(unchecked) private var namesByPointer: [UnsafePointer<xmlChar>: Int32] = [:]
    @exclusivity(unchecked) private var recentNames = [(pointer: UnsafePointer<xmlChar>?, id: Int32)](
        repeating: (nil, -1), count: 64)

    private func currentNameID() -> Int32 {
        guard let pointer = xmlTextReaderConstLocalName(reader) else { return nameID(for: "") }
        let slot = Int(bitPattern: UInt(bitPattern: pointer) >> 3) & 63
        if recentNames[slot].pointer == pointer { return recentNames[slot].id }
        let id: Int32
        if let known = namesByPointer[pointer] {
            id = known
        } else {
            id = nameID(for: String(cString: pointer))
            if namesByPointer.count < 10_000 { namesByPointer[pointer] = id }
        }
        recentNames[slot] = (pointer, id)
        return id
    }

    private func nameID(for text: String) -> Int32 {
        if let known = nameIDs[text] { return known }
        let id = Int32(nameTexts.count)
        nameTexts.append(text)
        nameIDs[text] = id
        for (index, component) in recordPath.enumerated() where component == text { recordPathIDs[index] = id }
        return id
    }

    private func currentName() -> String {
        nameTexts[Int(currentNameID())]
    }

    private func currentPrefix() -> String? {
        xmlTextReaderConstPrefix(reader).map { String(cString: $0) }
    }
}

/// Records read by ``XMLRecordReader/nextChunk(limit:)``, still as bytes: each field a name id and a byte range of
/// one buffer (an empty range is `null`). ``record(at:)`` decodes one record.
public struct XMLRecordChunk: Sendable {
    struct Entry {
        var name: Int32
        var start: Int
        var length: Int
    }

    /// Field names by id.
    fileprivate(set) var names: [String] = []
    private var bytes: [UInt8] = []
    private var entries: [Entry] = []
    /// Per record, the index past its last entry.
    private var ends: [Int] = []

    /// The number of records.
    public var count: Int { ends.count }
    var entryCount: Int { entries.count }
    var byteCount: Int { bytes.count }

    mutating func reserve(like other: XMLRecordChunk) {
        bytes.reserveCapacity(other.bytes.count)
        entries.reserveCapacity(other.entries.count)
        ends.reserveCapacity(other.ends.count)
    }

    mutating func appendText(_ text: UnsafePointer<xmlChar>) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text, count: Int(xmlStrlen(text))))
    }

    mutating func truncateBytes(to count: Int) {
        if bytes.count > count { bytes.removeSubrange(count...) }
    }

    /// Ends a field whose text runs from `start` to the end of the bytes.
    mutating func appendField(_ name: Int32, from start: Int) {
        entries.append(Entry(name: name, start: start, length: bytes.count - start))
    }

    mutating func insertField(_ name: Int32, from start: Int, at index: Int) {
        entries.insert(Entry(name: name, start: start, length: bytes.count - start), at: index)
    }

    mutating func endRecord() {
        ends.append(entries.count)
    }

    /// Record `index`'s fields in document order.
    public func record(at index: Int) -> [(String, Value)] {
        let first = index == 0 ? 0 : ends[index - 1], last = ends[index]
        var fields: [(String, Value)] = []
        fields.reserveCapacity(last - first)
        bytes.withUnsafeBufferPointer { buffer in
            for entry in entries[first ..< last] {
                let value: Value = entry.length == 0 ? .null : .string(String(
                    decoding: UnsafeBufferPointer(rebasing: buffer[entry.start ..< entry.start + entry.length]), as: UTF8.self))
                fields.append((names[Int(entry.name)], value))
            }
        }
        return fields
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
