import CLibXML2
public import SDataCore
#if canImport(Glibc)
import Glibc
#endif

/// Streams records out of an XML document with libxml2's push parser and SAX2 callbacks: no tree is built, memory
/// holds the current element path and the records of one chunk, whatever the file size. (``readDocument()``, for
/// small API pages, uses libxml2's pull reader and builds a tree.)
///
/// A record is every element whose path ends with ``recordPath`` (`row` matches any `row`; `response/body/items/item`
/// matches that chain). Each leaf below it becomes a field named by its path relative to the record (`name`, or
/// `address/city` when nested); attributes become fields named `@attr` (or `child@attr`). Empty elements are `null`.
/// The document's own encoding declaration is honoured (EUC-KR feeds work), a BOM is skipped, external entities and
/// network access are disabled.
public final class XMLRecordReader {
    private enum Input {
        case file(Int32)
        case memory(UnsafeMutablePointer<CChar>, count: Int)
    }

    private let input: Input
    private let path: String?
    private let label: String
    private let recordPath: [String]
    private let errors = XMLErrorBox()
    // The reader is used by one task at a time (a source's run): its per-node state skips the runtime's dynamic
    // exclusivity checks, which cost more than the parsing itself on large documents.
    @exclusivity(unchecked) private var parser: xmlParserCtxtPtr?
    @exclusivity(unchecked) private var consumed = 0
    private let block = UnsafeMutablePointer<CChar>.allocate(capacity: XMLRecordReader.blockSize)
    private static let blockSize = 1 << 16
    @exclusivity(unchecked) private var chunk = XMLRecordChunk()
    @exclusivity(unchecked) private var finished = false
    /// Records parsed beyond what ``next()`` has returned.
    @exclusivity(unchecked) private var pending: (chunk: XMLRecordChunk, next: Int)?
    /// The open elements' name ids, root first.
    @exclusivity(unchecked) private var stack: [Int32] = []
    /// The stack's depth at the current record's element, while inside one.
    @exclusivity(unchecked) private var recordDepth: Int?
    /// Per open element below the record (the record first): whether it has had a child element.
    @exclusivity(unchecked) private var hasChildren: [Bool] = []
    /// Where the innermost element's text starts in the chunk's bytes.
    @exclusivity(unchecked) private var textStart = 0
    /// The chunk entry and byte where the current (or, between records, the next) record's fields start.
    @exclusivity(unchecked) private var recordStart = 0
    @exclusivity(unchecked) private var recordByteStart = 0

    private static let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOCDATA.rawValue | XML_PARSE_COMPACT.rawValue)

    /// Opens the file at `path`.
    public init(path: String, recordPath: String) throws(SourceError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw SourceError("cannot open XML file '\(path)'") }
        input = .file(descriptor)
        self.path = path
        label = path
        self.recordPath = recordPath.split(separator: "/").map(String.init)
        recordPathIDs = Array(repeating: -1, count: self.recordPath.count)
    }

    /// Reads a document held in memory (an HTTP body); `label` names it in errors.
    public init(bytes: [UInt8], label: String, recordPath: String) throws(SourceError) {
        // libxml2 copies nothing: keep the bytes alive in a buffer the reader owns.
        let copy = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, bytes.count))
        bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { source in
                if let base = source.baseAddress { copy.initialize(from: base, count: source.count) }
            }
        }
        input = .memory(copy, count: bytes.count)
        path = nil
        self.label = label
        self.recordPath = recordPath.split(separator: "/").map(String.init)
        recordPathIDs = Array(repeating: -1, count: self.recordPath.count)
    }

    deinit {
        if let textReader { xmlFreeTextReader(textReader) }
        if let parser {
            if let document = parser.pointee.myDoc { xmlFreeDoc(document) }
            xmlFreeParserCtxt(parser)
        }
        switch input {
        case .file(let descriptor): close(descriptor)
        case .memory(let pointer, _): pointer.deallocate()
        }
        block.deallocate()
    }

    /// Without a handler libxml2 prints errors, with a copy of the offending line, to stderr: that could leak record
    /// values. The handler keeps only the first error's message and line number.
    private static let errorHandler: xmlStructuredErrorFunc = { context, error in
        guard let context, let error else { return }
        let box = Unmanaged<XMLErrorBox>.fromOpaque(context).takeUnretainedValue()
        guard box.message == nil, error.pointee.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
        let text = error.pointee.message.map { String(cString: $0) } ?? "malformed XML"
        box.message = text.trimmingWhitespace()
        box.line = Int(error.pointee.line)
    }

    private func malformed(retryable: Bool = false) -> SourceError {
        let line = errors.line.map { ":\($0)" } ?? ""
        return SourceError("\(label)\(line): malformed XML: \(errors.message ?? "parse error") (truncated?)",
                           retryable: retryable)
    }

    /// The next record's fields in document order, or `nil` at the end of the document.
    public func next() throws(SourceError) -> [(String, Value)]? {
        if pending == nil, let chunk = try nextChunk(limit: 1) { pending = (chunk, 0) }
        guard let (chunk, index) = pending else { return nil }
        pending = index + 1 < chunk.count ? (chunk, index + 1) : nil
        return chunk.record(at: index)
    }

    /// The next records, at least `limit` of them unless the document ends first (a few more when one block of the
    /// input holds more), or `nil` at the end of the document.
    ///
    /// The records stay bytes (one buffer, each field a name id and a byte range) until ``XMLRecordChunk/record(at:)``
    /// decodes them: the parsing thread of a ``RecordPump`` then does little besides libxml2's own work, and the
    /// strings are made on the other core.
    public func nextChunk(limit: Int) throws(SourceError) -> XMLRecordChunk? {
        while chunk.count < limit, !finished {
            try parseBlock()
        }
        guard chunk.count > 0 else { return nil }
        // A block may end inside a record: its fields so far move to the next chunk.
        var full = chunk.splitOff(entriesFrom: recordStart, bytesFrom: recordByteStart)
        swap(&full, &chunk)
        textStart -= recordByteStart
        recordStart = 0
        recordByteStart = 0
        full.names = fieldNames
        return full
    }

    /// Feeds the parser the next block of the input (the end of the input when there is none); the SAX callbacks
    /// below add the records it completes to the chunk.
    private func parseBlock() throws(SourceError) {
        var count: Int
        switch input {
        case .file(let descriptor):
            count = read(descriptor, block, Self.blockSize)
            while count < 0, errno == EINTR { count = read(descriptor, block, Self.blockSize) }
            if count < 0 { throw SourceError("cannot read '\(label)': \(String(cString: strerror(errno)))") }
        case .memory(let pointer, let total):
            count = min(Self.blockSize, total - consumed)
            block.update(from: pointer + consumed, count: count)
        }
        consumed += count
        let context: xmlParserCtxtPtr
        if let parser {
            context = parser
        } else {
            // libxml2 detects a BOM and the encoding from the first block, before the declaration is read.
            var handler = Self.handler
            // No user data: libxml2's own SAX2 handlers (document start, DTD) need the parser context as theirs;
            // the callbacks below find the reader in the context's private pointer.
            guard let created = xmlCreatePushParserCtxt(&handler, nil, nil, 0, path ?? label) else {
                throw SourceError("cannot read XML from \(label)")
            }
            created.pointee._private = Unmanaged.passUnretained(self).toOpaque()
            xmlCtxtUseOptions(created, Self.options)
            parser = created
            context = created
        }
        let status = xmlParseChunk(context, block, Int32(count), count == 0 ? 1 : 0)
        if status != 0 || context.pointee.wellFormed == 0 {
            finished = true
            throw malformed()
        }
        if count == 0 {
            finished = true
            if recordDepth != nil { throw SourceError("\(label): the document ends inside a record (truncated?)") }
        }
    }

    /// The reader a SAX callback's context (the parser context) belongs to.
    private static func owner(of context: UnsafeMutableRawPointer) -> XMLRecordReader {
        let parser = context.assumingMemoryBound(to: xmlParserCtxt.self)
        return Unmanaged<XMLRecordReader>.fromOpaque(parser.pointee._private!).takeUnretainedValue()
    }

    nonisolated(unsafe) private static let handler: xmlSAXHandler = {
        var handler = xmlSAXHandler()
        xmlSAXVersion(&handler, 2)
        handler.startElementNs = { context, name, _, _, _, _, attributeCount, _, attributes in
            guard let context, let name else { return }
            XMLRecordReader.owner(of: context)
                .startElement(name, attributeCount: Int(attributeCount), attributes)
        }
        handler.endElementNs = { context, _, _, _ in
            guard let context else { return }
            XMLRecordReader.owner(of: context).endElement()
        }
        let text: charactersSAXFunc = { context, text, length in
            guard let context, let text else { return }
            XMLRecordReader.owner(of: context).characters(text, count: Int(length))
        }
        handler.characters = text
        handler.ignorableWhitespace = text
        handler.cdataBlock = text
        // Entity references are not expanded (as the pull reader leaves them); comments and PIs are dropped.
        handler.reference = nil
        handler.comment = nil
        handler.processingInstruction = nil
        handler.warning = nil
        handler.error = nil
        handler.serror = { context, error in
            guard let context else { return }
            XMLRecordReader.errorHandler(
                Unmanaged.passUnretained(XMLRecordReader.owner(of: context).errors)
                    .toOpaque(), error)
        }
        return handler
    }()

    /// Reads the whole (small) document into a tree: an API page whose envelope matters as much as its rows.
    ///
    /// Elements with children become objects (repeated names an array, in first-seen position), attributes `@name`
    /// members, leaves their text (`null` when empty or only white space); the result is an object holding the root
    /// element, so `<response><body>…` reads like the same API's JSON (`response.body…`).
    public func readDocument() throws(SourceError) -> JSONValue {
        let reader = try makeTextReader()
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
            if status < 0 { throw malformed(retryable: true) }
            switch xmlTextReaderNodeType(reader) {
            case Int32(XML_READER_TYPE_ELEMENT.rawValue):
                let name = currentName(reader)
                let isEmpty = xmlTextReaderIsEmptyElement(reader) == 1
                var attributes: [(String, JSONValue)] = []
                if xmlTextReaderHasAttributes(reader) == 1 {
                    while xmlTextReaderMoveToNextAttribute(reader) == 1 {
                        let attribute = currentName(reader)
                        if attribute == "xmlns" || xmlTextReaderConstPrefix(reader).map({ String(cString: $0) }) == "xmlns" {
                            continue
                        }
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

    /// The pull reader ``readDocument()`` uses.
    private var textReader: xmlTextReaderPtr?

    private func makeTextReader() throws(SourceError) -> xmlTextReaderPtr {
        if let textReader { return textReader }
        let created: xmlTextReaderPtr?
        switch input {
        case .file:
            created = xmlReaderForFile(path, nil, Self.options)
        case .memory(let pointer, let count):
            created = xmlReaderForMemory(pointer, Int32(count), label, nil, Self.options)
        }
        guard let created else { throw SourceError("cannot read XML from \(label)") }
        xmlTextReaderSetStructuredErrorHandler(created, Self.errorHandler, Unmanaged.passUnretained(errors).toOpaque())
        textReader = created
        return created
    }

    // MARK: SAX callbacks

    /// Pushes an element, starting a record when the path matches. `attributes` holds five pointers per attribute:
    /// local name, prefix, URI, value start, value end (namespace declarations are not among them).
    private func startElement(_ name: UnsafePointer<xmlChar>, attributeCount: Int,
                              _ attributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?) {
        stack.append(nameID(name))
        if recordDepth == nil {
            guard matchesRecordPath() else { return }
            recordDepth = stack.count
            recordStart = chunk.entryCount
            recordByteStart = chunk.byteCount
            hasChildren.removeAll(keepingCapacity: true)
            hasChildren.append(false)
        } else {
            if !hasChildren[hasChildren.count - 1] {
                hasChildren[hasChildren.count - 1] = true
                chunk.truncateBytes(to: textStart)
            }
            hasChildren.append(false)
        }
        if attributeCount > 0, let attributes {
            for index in 0 ..< attributeCount {
                guard let attribute = attributes[5 * index], let value = attributes[5 * index + 3],
                      let end = attributes[5 * index + 4] else { continue }
                let start = chunk.byteCount
                chunk.appendAttribute(value, count: end - value, parser: parser)
                chunk.appendField(fieldID(attribute: nameID(attribute)), from: start)
            }
        }
        textStart = chunk.byteCount
    }

    /// Pops an element, ending a field at a leaf and the record at the record's element.
    private func endElement() {
        defer { stack.removeLast() }
        guard let depth = recordDepth else { return }
        let leaf = !hasChildren.removeLast()
        if stack.count == depth {
            recordDepth = nil
            if leaf, chunk.byteCount > textStart {
                chunk.insertField(fieldID(attribute: nil, value: true), from: textStart, at: recordStart)
            }
            chunk.endRecord()
            recordStart = chunk.entryCount
            recordByteStart = chunk.byteCount
        } else if leaf {
            chunk.appendField(fieldID(attribute: nil), from: textStart)
        }
    }

    /// Only a leaf's text is kept: an element's text is dropped once it has a child.
    private func characters(_ text: UnsafePointer<xmlChar>, count: Int) {
        if recordDepth != nil, hasChildren.last == false { chunk.appendText(text, count: count) }
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

    private func nameID(_ pointer: UnsafePointer<xmlChar>) -> Int32 {
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

    private func currentName(_ reader: xmlTextReaderPtr) -> String {
        xmlTextReaderConstLocalName(reader).map { nameTexts[Int(nameID($0))] } ?? ""
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

    /// Removes the entries from `entriesFrom` and the bytes from `bytesFrom` on (a record not yet complete) and
    /// returns them as a new chunk, sized like this one.
    mutating func splitOff(entriesFrom: Int, bytesFrom: Int) -> XMLRecordChunk {
        var tail = XMLRecordChunk()
        tail.bytes.reserveCapacity(bytes.count)
        tail.entries.reserveCapacity(entries.count)
        tail.ends.reserveCapacity(ends.count)
        tail.bytes.append(contentsOf: bytes[bytesFrom...])
        tail.entries.append(contentsOf: entries[entriesFrom...].map { entry in
            Entry(name: entry.name, start: entry.start - bytesFrom, length: entry.length)
        })
        bytes.removeSubrange(bytesFrom...)
        entries.removeSubrange(entriesFrom...)
        return tail
    }

    mutating func appendText(_ text: UnsafePointer<xmlChar>, count: Int) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text, count: count))
    }

    /// An attribute value as SAX2 passes it: with entity expansion off, an `&` arrives as `&#38;` (and a declared
    /// entity as its reference), which libxml2 decodes here as it would for a tree.
    mutating func appendAttribute(_ value: UnsafePointer<xmlChar>, count: Int, parser: xmlParserCtxtPtr?) {
        let raw = UnsafeBufferPointer(start: value, count: count)
        guard raw.contains(UInt8(ascii: "&")),
              let decoded = xmlStringLenDecodeEntities(parser, value, Int32(count), Int32(XML_SUBSTITUTE_REF), 0, 0, 0)
        else {
            bytes.append(contentsOf: raw)
            return
        }
        bytes.append(contentsOf: UnsafeBufferPointer(start: decoded, count: Int(xmlStrlen(decoded))))
        free(decoded)
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
