public import SDataCore

/// A streaming RFC 4180 reader: any one-byte delimiter and quote, CRLF or LF line ends, quoted fields that hold
/// delimiters, quotes (doubled) and line breaks, and a UTF-8 byte-order mark at the start.
///
/// It reads bytes, not characters, and builds a `String` only once per field; empty fields become `null`.
public struct CSVReader {
    private let reader: ByteReader
    private let delimiter: UInt8
    private let quote: UInt8
    /// The line the next record starts on, 1-based (for errors).
    public private(set) var line = 1
    private var field: [UInt8] = []

    public init(path: String, delimiter: UInt8 = UInt8(ascii: ","), quote: UInt8 = UInt8(ascii: "\"")) throws(SourceError) {
        reader = try ByteReader(path: path)
        self.delimiter = delimiter
        self.quote = quote
        try reader.skipBOM()
        field.reserveCapacity(256)
    }

    /// The next record, or `nil` at the end of the file.
    public mutating func next() throws(SourceError) -> [Value]? {
        guard try reader.peek() != nil else { return nil }
        let startLine = line
        var record: [Value] = []
        var quoted = false
        var wasQuoted = false
        field.removeAll(keepingCapacity: true)
        while true {
            guard let byte = try reader.next() else {
                if quoted {
                    throw SourceError("\(reader.path):\(startLine): the file ends inside a quoted field (truncated?)")
                }
                record.append(finishField(wasQuoted))
                return record
            }
            if quoted {
                if byte == quote {
                    if try reader.peek() == quote {
                        _ = try reader.next()
                        field.append(quote)
                    } else {
                        quoted = false
                    }
                } else {
                    if byte == 0x0A { line += 1 }
                    field.append(byte)
                }
                continue
            }
            switch byte {
            case delimiter:
                record.append(finishField(wasQuoted))
                wasQuoted = false
            case 0x0A:
                line += 1
                record.append(finishField(wasQuoted))
                return record
            case 0x0D where try reader.peek() == 0x0A:
                continue
            case quote where field.isEmpty && !wasQuoted:
                quoted = true
                wasQuoted = true
            default:
                field.append(byte)
            }
        }
    }

    private mutating func finishField(_ wasQuoted: Bool) -> Value {
        defer { field.removeAll(keepingCapacity: true) }
        if field.isEmpty { return wasQuoted ? .string("") : .null }
        return .string(String(decoding: field, as: UTF8.self))
    }
}
