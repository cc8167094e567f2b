/// Delimited text (CSV, TSV) cut into record-aligned chunks and parsed into field spans: the columnar engine's batch.
///
/// A chunk keeps its text as read; each field is a span `start ..< end` into ``text`` (no `String`, no copy), except
/// quoted fields with doubled quotes, whose unescaped copies are kept beside it (``escaped``, offsets from the text's
/// end: ``ChunkText``). The rules are those of the row reader (`CSVReader`): RFC 4180 with a one-byte delimiter and
/// quote, CRLF or LF line ends, empty unquoted fields are null (a span whose end is before its start), `""` is the
/// empty string, blank lines are skipped.
///
/// Chunks are cut at a line feed preceded by an even number of quotes, which is a record boundary as long as quotes
/// appear only where RFC 4180 puts them (around a whole field). The parser checks exactly that: a quote inside an
/// unquoted field, or text after a closing quote, makes the chunk ``Outcome/irregular``, and the caller reads the file
/// with the row reader instead, which accepts such text.
public struct DelimitedChunk: @unchecked Sendable {
    /// The chunk's text: borrowed (``init(borrowing:width:)``, the caller keeps it alive and unchanged while the chunk
    /// is used) or owned (``init(bytes:width:)``).
    public let text: UnsafeBufferPointer<UInt8>
    private let owner: OwnedText?
    /// The unescaped copies of fields that held doubled quotes; their spans start at `text.count` (``ChunkText``).
    /// Owned, so that their address is stable for as long as the chunk lives.
    private var escaped: OwnedText?
    /// Two entries per field, row after row: start and end offsets into the text, then the escaped copies; end <
    /// start for null.
    public private(set) var spans: [Int32] = []
    public private(set) var rows = 0
    public let width: Int
    /// Line feeds in the text (for line numbers of later chunks).
    public private(set) var lineFeeds = 0

    public enum Outcome: Equatable, Sendable {
        case parsed
        /// Quotes outside the places RFC 4180 allows: the row reader must read this file.
        case irregular
        /// A record with `fields` fields where the header has another count; `line` is 0-based within the chunk.
        case wrongWidth(line: Int, fields: Int)
        /// The text ends inside a quoted field; `line` is where the record starts, 0-based within the chunk.
        case unterminatedQuote(line: Int)
    }

    /// A chunk of a copy of `bytes`.
    public init(bytes: [UInt8], width: Int) {
        let owner = OwnedText(bytes)
        self.init(text: UnsafeBufferPointer(owner.buffer), owner: owner, width: width)
    }

    /// A chunk of `text` as it is, without a copy (a window of a memory-mapped file): the caller keeps the memory
    /// mapped and unchanged for as long as the chunk and what is derived from its spans are used.
    public init(borrowing text: UnsafeBufferPointer<UInt8>, width: Int) {
        self.init(text: text, owner: nil, width: width)
    }

    private init(text: UnsafeBufferPointer<UInt8>, owner: OwnedText?, width: Int) {
        self.text = text
        self.owner = owner
        self.width = width
    }

    /// The chunk's text and escaped copies as one ``ChunkText`` the spans index into: valid while the chunk lives
    /// (a caller outside ``withText(_:)`` keeps it alive with `withExtendedLifetime`).
    public var addresses: ChunkText {
        let escapedBase = escaped.map { UnsafePointer($0.buffer.baseAddress!) }
        return ChunkText(text: text.baseAddress ?? escapedBase ?? UnsafePointer(bitPattern: 1)!, count: text.count,
                         escaped: escapedBase)
    }

    /// Runs `body` with ``addresses``.
    @inline(__always)
    public func withText<R>(_ body: (ChunkText) throws -> R) rethrows -> R {
        try withExtendedLifetime((owner, escaped)) { try body(addresses) }
    }

    @inline(__always)
    public func start(_ row: Int, _ column: Int) -> Int { Int(spans[(row &* width &+ column) &* 2]) }
    @inline(__always)
    public func end(_ row: Int, _ column: Int) -> Int { Int(spans[(row &* width &+ column) &* 2 &+ 1]) }
    @inline(__always)
    public func isNull(_ row: Int, _ column: Int) -> Bool { end(row, column) < start(row, column) }

    /// Parses the whole text. With `width` 0 the first record's width is accepted (a header) and parsing stops there;
    /// ``rows`` is then 1 and ``spans`` holds its fields.
    public mutating func parse(delimiter: UInt8, quote: UInt8, isLast: Bool) -> Outcome {
        var unescaped: [UInt8] = []
        let textCount = text.count
        let expected = width
        var rows = 0
        var lines = 0
        var outcome = Outcome.parsed
        var fieldCount = 0
        // Every record but the last ends at a line feed and has `width` fields (a wider one stops the parse).
        let capacity = expected == 0 ? 2 * 4096
            : 2 * expected * (ByteScan.count(0x0A, in: text) + 2)
        let spans = [Int32](unsafeUninitializedCapacity: capacity) { spanBuffer, initialized in
            let spanBase = spanBuffer.baseAddress!
            var used = 0
            // A record wider than the header may run past the capacity: its extra fields are counted, not kept, and
            // the width check at its end reports it.
            @inline(__always) func push(_ start: Int, _ end: Int) {
                if used + 2 <= capacity {
                    spanBase[used] = Int32(truncatingIfNeeded: start)
                    spanBase[used + 1] = Int32(truncatingIfNeeded: end)
                }
                used += 2
            }
            defer { initialized = min(used, capacity) }
            do {
                guard let base = text.baseAddress else { return }
                let count = text.count
                var position = 0
                // Where the delimiters, line feeds and quotes of 64 bytes from `maskStart` are (bit i: byte
                // `maskStart + i`): an unquoted field ends at the first one at or after its start, found with a shift
                // and a bit count instead of a byte-by-byte search (fields here average 9 bytes).
                var maskStart = -64, mask: UInt64 = 0
                @inline(__always) func nextStructural(from position: Int) -> Int {
                    var from = position
                    while true {
                        if from &- maskStart >= 64 || from < maskStart {
                            maskStart = from
                            mask = ByteScan.matchMask(of: delimiter, 0x0A, quote, in: base, at: from, end: count)
                        }
                        let ahead = mask & (~0 << UInt64(from &- maskStart))
                        if ahead != 0 { return maskStart &+ ahead.trailingZeroBitCount }
                        if maskStart &+ 64 >= count { return count }
                        from = maskStart &+ 64
                    }
                }
                // Records of unquoted fields ending at a line feed — nearly all of them — take a lean loop first
                // (``parseLean``); anything else (a quote, a wider or narrower record, the text's end) is decided by
                // the general path below, one record at a time, exactly as before.
                let leanRecords = expected > 0 && delimiter != 0x0A && delimiter != 0x0D && delimiter != quote
                    && quote != 0x0A && quote != 0x0D
                records: while position < count {
                    if leanRecords {
                        let done = DelimitedChunk.parseLean(base, count: count, position: &position, spans: spanBase,
                                                            used: &used, capacity: capacity, width: expected,
                                                            delimiter: delimiter, quote: quote,
                                                            maskStart: &maskStart, mask: &mask)
                        rows += done
                        lines += done
                        if position >= count { break records }
                    }
                    let recordLine = lines
                    let recordStart = used
                    var fields = 0
                    fieldLoop: while true {
                        fields += 1
                        if expected == 0 && used + 2 > capacity {
                            outcome = .irregular  // a header wider than 4096 fields
                            return
                        }
                        if position < count && base[position] == quote {
                            // A quoted field: up to the quote not followed by another.
                            var cursor = position + 1
                            let contentStart = cursor
                            var escaped = false
                            while true {
                                while cursor < count && base[cursor] != quote {
                                    if base[cursor] == 0x0A { lines += 1 }
                                    cursor += 1
                                }
                                if cursor >= count {
                                    outcome = isLast ? .unterminatedQuote(line: recordLine) : .irregular
                                    return
                                }
                                if cursor + 1 < count && base[cursor + 1] == quote {
                                    escaped = true
                                    cursor += 2
                                    continue
                                }
                                break
                            }
                            if escaped {
                                // The content with each doubled quote made single, after the text.
                                let escapedFrom = unescaped.count
                                var index = contentStart
                                while index < cursor {
                                    unescaped.append(base[index])
                                    index += base[index] == quote ? 2 : 1
                                }
                                push(textCount + escapedFrom, textCount + unescaped.count)
                            } else {
                                push(contentStart, cursor)
                            }
                            position = cursor + 1
                            if position >= count { break fieldLoop }
                            let next = base[position]
                            if next == delimiter {
                                position += 1
                                continue fieldLoop
                            }
                            if next == 0x0A {
                                position += 1
                                lines += 1
                                break fieldLoop
                            }
                            if next == 0x0D && position + 1 < count && base[position + 1] == 0x0A {
                                position += 2
                                lines += 1
                                break fieldLoop
                            }
                            outcome = .irregular
                            return
                        }
                        // An unquoted field: up to the delimiter or the line feed.
                        let fieldStart = position
                        position = nextStructural(from: position)
                        let byte: UInt8 = position < count ? base[position] : 0
                        if position < count && byte == quote {
                            outcome = .irregular
                            return
                        }
                        var fieldEnd = position
                        if position < count && byte == 0x0A && fieldEnd > fieldStart && base[fieldEnd - 1] == 0x0D {
                            fieldEnd -= 1
                        }
                        if fieldEnd == fieldStart { push(0, -1) } else { push(fieldStart, fieldEnd) }
                        if position >= count { break fieldLoop }
                        position += 1
                        if byte == 0x0A {
                            lines += 1
                            break fieldLoop
                        }
                    }
                    if fields == 1 && spanBase[recordStart + 1] < spanBase[recordStart] && expected != 1 && expected != 0 {
                        used = recordStart  // a blank line
                        continue records
                    }
                    if expected != 0 && fields != expected {
                        outcome = .wrongWidth(line: recordLine, fields: fields)
                        used = min(used, capacity)
                        return
                    }
                    rows += 1
                    if expected == 0 {
                        fieldCount = fields
                        break records
                    }
                }
            }
        }
        if expected == 0 {
            self = DelimitedChunk(text: text, owner: owner, width: fieldCount)
        }
        escaped = unescaped.isEmpty ? nil : OwnedText(unescaped)
        self.spans = spans
        self.rows = rows
        lineFeeds = lines
        return outcome
    }

    /// Parses records from `position` for as long as they are lean — `width` unquoted fields, the last ending at a
    /// line feed (a CR before it dropped), room for them in `spans` — and returns how many it parsed; `position`,
    /// `used` and the mask then stand after the last one. Every value the loop needs lives in a local (the general
    /// path's state is captured by the closure that fills the spans, and kept in memory): one mask lookup, one byte
    /// test and one span per field.
    @inline(__always)
    static func parseLean(_ base: UnsafePointer<UInt8>, count: Int, position: inout Int, spans: UnsafeMutablePointer<Int32>,
                          used: inout Int, capacity: Int, width: Int, delimiter: UInt8, quote: UInt8,
                          maskStart: inout Int, mask: inout UInt64) -> Int {
        var next = position, filled = used, blockStart = maskStart, block = mask, rows = 0
        defer {
            position = next
            used = filled
            maskStart = blockStart
            mask = block
        }
        records: while next < count && filled + 2 * width <= capacity {
            var fieldStart = next, fields = 0, written = filled
            while true {
                // The first delimiter, line feed or quote at or after the field's start.
                var from = fieldStart, end = 0
                while true {
                    if from &- blockStart >= 64 || from < blockStart {
                        blockStart = from
                        block = ByteScan.matchMask(of: delimiter, 0x0A, quote, in: base, at: from, end: count)
                    }
                    let ahead = block & (~0 << UInt64(from &- blockStart))
                    if ahead != 0 {
                        end = blockStart &+ ahead.trailingZeroBitCount
                        break
                    }
                    if blockStart &+ 64 >= count { return rows }
                    from = blockStart &+ 64
                }
                let byte = base[end]
                if byte == quote || fields == width { return rows }
                fields += 1
                var fieldEnd = end
                if byte != delimiter, fieldEnd > fieldStart, base[fieldEnd &- 1] == 0x0D { fieldEnd -= 1 }
                let null = fieldEnd == fieldStart
                spans[written] = null ? 0 : Int32(truncatingIfNeeded: fieldStart)
                spans[written &+ 1] = null ? -1 : Int32(truncatingIfNeeded: fieldEnd)
                written &+= 2
                fieldStart = end &+ 1
                if byte == delimiter { continue }
                guard fields == width else { return rows }
                rows += 1
                filled = written
                next = fieldStart
                continue records
            }
        }
        return rows
    }

    /// The bytes of field (`row`, `column`); empty for null.
    @inline(__always)
    public func withField<R>(_ row: Int, _ column: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let start = self.start(row, column), end = self.end(row, column)
        return try withText { text in try body(text.field(start, end)) }
    }

    /// Where text may be cut into chunks: just after the last (or, with `first`, the first) line feed in `text`
    /// preceded by an even number of quotes, or `nil` when there is none.
    public static func cut(_ text: UnsafeBufferPointer<UInt8>, quote: UInt8, first: Bool = false) -> Int? {
        guard let base = text.baseAddress else { return nil }
        if first {
            var quotes = 0
            for index in 0 ..< text.count {
                if base[index] == quote { quotes += 1 } else if base[index] == 0x0A && quotes & 1 == 0 { return index + 1 }
            }
            return nil
        }
        var quotes = ByteScan.count(quote, in: text)
        var index = text.count - 1
        while index >= 0 {
            let byte = base[index]
            if byte == quote {
                quotes -= 1
            } else if byte == 0x0A && quotes & 1 == 0 {
                return index + 1
            }
            index -= 1
        }
        return nil
    }
}

/// A chunk's text and its escaped copies as one address space of offsets: `0 ..< count` in the text, from `count` on
/// in the escaped copies (the parser's spans).
public struct ChunkText {
    public let text: UnsafePointer<UInt8>
    public let count: Int
    public let escaped: UnsafePointer<UInt8>?

    @inlinable
    public init(text: UnsafePointer<UInt8>, count: Int, escaped: UnsafePointer<UInt8>?) {
        self.text = text
        self.count = count
        self.escaped = escaped
    }

    /// The address of offset `offset`.
    @inlinable @inline(__always)
    public func at(_ offset: Int) -> UnsafePointer<UInt8> {
        offset < count ? text + offset : escaped.unsafelyUnwrapped + (offset &- count)
    }

    /// The bytes of span `start ..< end`; empty for a null span (end < start).
    @inlinable @inline(__always)
    public func field(_ start: Int, _ end: Int) -> UnsafeRawBufferPointer {
        end > start ? UnsafeRawBufferPointer(start: at(start), count: end &- start) : UnsafeRawBufferPointer(start: nil, count: 0)
    }
}

/// Bytes a chunk owns (``DelimitedChunk/init(bytes:width:)``).
final class OwnedText: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<UInt8>

    init(_ bytes: [UInt8]) {
        buffer = .allocate(capacity: bytes.count)
        _ = buffer.initialize(from: bytes)
    }

    deinit { buffer.deallocate() }
}
