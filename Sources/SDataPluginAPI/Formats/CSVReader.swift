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

extension CSVReader {
    /// Reads the CSV file at `file` into batches: the header names the fields (or `column_N` without one), every
    /// value is a string (or null when empty), blank lines are skipped and a record with the wrong number of fields
    /// fails with its line number.
    public static func stream(_ file: String, delimiter: UInt8 = UInt8(ascii: ","), quote: UInt8 = UInt8(ascii: "\""),
                              header: Bool = true, into writer: RecordWriter, batchSize: Int) async throws {
        var reader = try CSVReader(path: file, delimiter: delimiter, quote: quote)
        var line = reader.line
        guard let first = try reader.next() else { return }
        var names: [String]
        var pending: [Record] = []
        if header {
            names = first.map(\.text)
            if let duplicate = Dictionary(grouping: names, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
                throw SourceError("\(file):1: the header names field '\(duplicate)' twice")
            }
        } else {
            names = (1...first.count).map { "column_\($0)" }
            pending.append(first)
        }
        let schema = Schema(names.map { Field(name: $0, type: .string) })
        pending.reserveCapacity(batchSize)
        line = reader.line
        while let record = try reader.next() {
            if record.count == 1, record[0].isNull, names.count > 1 {
                line = reader.line
                continue  // a blank line
            }
            guard record.count == names.count else {
                throw SourceError(
                    "\(file):\(line): record has \(record.count) fields but the header has \(names.count) (truncated or malformed file?)")
            }
            pending.append(record)
            if pending.count >= batchSize {
                try await writer.write(RecordBatch(schema: schema, records: pending))
                pending.removeAll(keepingCapacity: true)
            }
            line = reader.line
        }
        try await writer.write(RecordBatch(schema: schema, records: pending))
    }
}
