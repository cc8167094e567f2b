public import SDataCore
public import SDataGovernance

/// CSV with minimal quoting (RFC 4180): a field is quoted only when it holds the delimiter, a quote, CR or LF; quotes
/// are doubled; null is an empty field; every record, the last included, ends with the line terminator.
public final class CSVWriter: FormatWriter {
    public struct Dialect: Sendable, Equatable {
        public var delimiter: UInt8
        public var lineTerminator: String
        public var header: Bool
        public var byteOrderMark: Bool

        public init(delimiter: UInt8 = UInt8(ascii: ","), lineTerminator: String = "\n", header: Bool = true,
                    byteOrderMark: Bool = false) {
            self.delimiter = delimiter
            self.lineTerminator = lineTerminator
            self.header = header
            self.byteOrderMark = byteOrderMark
        }
    }

    public let format: String
    public var mediaType: String { "text/csv" }
    private let output: FileOutput
    public let dialect: Dialect
    private var line: [UInt8] = []

    public init(path: String, schema: Schema, dialect: Dialect = Dialect(), format: String = "csv") throws(CatalogError) {
        self.format = format
        output = try FileOutput(path: path)
        self.dialect = dialect
        if dialect.byteOrderMark { try output.write(bytes: [0xEF, 0xBB, 0xBF]) }
        if dialect.header { try writeRow(schema.names.map(Value.string)) }
    }

    public func write(_ batch: GovernedBatch) throws(CatalogError) {
        for record in batch.records { try writeRow(record) }
    }

    private func writeRow(_ values: [Value]) throws(CatalogError) {
        line.removeAll(keepingCapacity: true)
        for (index, value) in values.enumerated() {
            if index > 0 { line.append(dialect.delimiter) }
            appendField(value.text)
        }
        line.append(contentsOf: dialect.lineTerminator.utf8)
        try output.write(bytes: line)
    }

    private func appendField(_ text: String) {
        var text = text
        text.withUTF8 { CSVQuoting.append(UnsafeRawBufferPointer($0), delimiter: dialect.delimiter, to: &line) }
    }

    /// Appends rows already formatted in this writer's dialect (the columnar engine formats them on its workers).
    public func writeFormatted(_ bytes: [UInt8]) throws(CatalogError) {
        try output.write(bytes: bytes)
    }

    /// The same for a large block of formatted rows, written without another copy.
    public func writeFormatted(raw bytes: UnsafeRawBufferPointer) throws(CatalogError) {
        try output.write(raw: bytes)
    }

    public func finish() throws(CatalogError) -> (bytes: Int, sha256: String) { try output.finish() }
}
