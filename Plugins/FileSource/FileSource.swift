import SDataCore
public import SDataPluginAPI

/// `file`: reads a local CSV, JSON Lines, JSON or XML file, streaming.
public struct FileSource: SourcePlugin {
    public enum Format: String, Sendable, CaseIterable { case csv, jsonl, json, xml }

    public static let descriptor = PluginDescriptor(
        id: "file",
        summary: "Reads a local CSV, JSON Lines, JSON or XML file, streaming, in constant memory.",
        details: """
            The format comes from `format`, or else from the file extension (`.csv`, `.tsv`, `.jsonl`/`.ndjson`, \
            `.json`, `.xml`). CSV follows RFC 4180 with any one-character delimiter and quote, tolerates a UTF-8 \
            byte-order mark and CRLF line ends; every record must have as many fields as the header. JSON reads the \
            records under `record_path` (an array gives one record per element, a single object one record, `null` \
            or `""` none); nested objects become `parent.child` fields. XML reads every element matching \
            `record_path` with libxml2's streaming reader; leaf children become fields, attributes `@name` fields. \
            Empty values are null. A relative `path` is resolved against the spec's folder.
            """,
        options: [
            OptionSpec("path", .string, required: true, "The file to read, absolute or relative to the spec."),
            OptionSpec("format", .choice(Format.allCases.map(\.rawValue)),
                       "The file format; by default taken from the extension."),
            OptionSpec("delimiter", .string, default: ",", "CSV: the field delimiter, one character (`\\t` for tab)."),
            OptionSpec("quote", .string, default: "\"", "CSV: the quote character."),
            OptionSpec("header", .boolean, default: "true",
                       "CSV: whether the first record names the fields; without it fields are `column_1`, `column_2`…"),
            OptionSpec("record_path", .string,
                       "JSON: dot-separated keys to the records (`result.results`); XML: the record element, or a "
                       + "slash-separated chain ending in it (`row`, `response/body/items/item`). Required for XML."),
        ],
        example: """
            source:
              plugin: file
              with:
                path: samples/seoul-covid19-daily.xml
                record_path: row
            """
    )

    public let path: String
    public let format: Format
    public let delimiter: UInt8
    public let quote: UInt8
    public let header: Bool
    public let recordPath: String?

    public init(options: PluginOptions) throws {
        path = options.string("path") ?? ""
        guard !path.isEmpty else { throw OptionError(option: "path", "must not be empty") }
        if let name = options.string("format") {
            format = Format(rawValue: name) ?? .csv
        } else if let inferred = FileSource.format(forExtensionOf: path) {
            format = inferred
        } else {
            throw OptionError(option: "path", "has no known extension (.csv, .tsv, .jsonl, .json, .xml); set 'format'")
        }
        let defaultDelimiter = path.lowercased().hasSuffix(".tsv") && !options.contains("delimiter") ? "\t" : ","
        delimiter = try FileSource.singleByte(options.contains("delimiter") ? options.string("delimiter") ?? ","
                                                : defaultDelimiter, option: "delimiter")
        quote = try FileSource.singleByte(options.string("quote") ?? "\"", option: "quote")
        guard delimiter != quote else { throw OptionError(option: "quote", "must differ from the delimiter") }
        header = options.bool("header") ?? true
        recordPath = options.string("record_path")
        if format == .xml, (recordPath ?? "").isEmpty {
            throw OptionError(option: "record_path", "is required for XML: name the element that holds one record")
        }
        if format == .csv || format == .jsonl, recordPath != nil {
            throw OptionError(option: "record_path", "applies only to JSON and XML files")
        }
    }

    static func format(forExtensionOf path: String) -> Format? {
        let lower = path.lowercased()
        if lower.hasSuffix(".csv") || lower.hasSuffix(".tsv") || lower.hasSuffix(".txt") { return .csv }
        if lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson") { return .jsonl }
        if lower.hasSuffix(".json") { return .json }
        if lower.hasSuffix(".xml") { return .xml }
        return nil
    }

    static func singleByte(_ text: String, option: String) throws -> UInt8 {
        let resolved = text == "\\t" ? "\t" : text
        guard resolved.utf8.count == 1, let byte = resolved.utf8.first, byte != 0x0A, byte != 0x0D else {
            throw OptionError(option: option, "must be a single ASCII character other than a line break")
        }
        return byte
    }

    public func run(into writer: RecordWriter, context: SourceContext) async throws {
        let file = context.resolve(path: path)
        context.logger.debug("reading \(format.rawValue) file \(file)")
        switch format {
        case .csv:
            try await CSVReader.stream(file, delimiter: delimiter, quote: quote, header: header, into: writer,
                                       batchSize: context.batchSize)
        case .jsonl:
            let reader = try JSONLinesReader(path: file)
            try await RecordPump.emit(into: writer, batchSize: context.batchSize) { () throws(SourceError) in
                try reader.next()?.recordFields()
            }
        case .json:
            let keys = (recordPath ?? "").split(separator: ".").map(String.init)
            let reader = try JSONStreamReader(path: file, recordPath: keys)
            try await RecordPump.emit(into: writer, batchSize: context.batchSize) { () throws(SourceError) in
                try reader.next()?.recordFields()
            }
        case .xml:
            let reader = try XMLRecordReader(path: file, recordPath: recordPath ?? "")
            try await RecordPump.emit(into: writer, batchSize: context.batchSize) { limit throws(SourceError) in
                try reader.nextChunk(limit: limit)
            }
        }
    }
}

extension FileSource: DelimitedFileSource {
    public func delimitedFile(context: SourceContext) -> DelimitedFile? {
        guard format == .csv else { return nil }
        return DelimitedFile(path: context.resolve(path: path), delimiter: delimiter, quote: quote, header: header)
    }
}
