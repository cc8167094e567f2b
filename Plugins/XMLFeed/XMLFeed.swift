import SDataCore
public import SDataPluginAPI
import SDataHTTP

/// `xml-feed`: any XML document, streamed with libxml2's reader.
public struct XMLFeed: SourcePlugin {
    public static let descriptor = PluginDescriptor(
        id: "xml-feed",
        summary: "Reads records out of any XML document or feed, by URL or file, in constant memory.",
        details: """
            Every element matching `record_path` is a record (`row`, or a slash-separated chain like \
            `response/body/items/item`). Without `fields`, each leaf below it becomes a field named by its path \
            relative to the record (`name`, `address/city`) and attributes become `@name` fields; with `fields`, \
            only those are kept, renamed: `{case_id: "@id", district: "place/district"}`. Empty elements are null. \
            A URL is streamed to a private scratch file and parsed from there with libxml2's streaming reader, so a \
            1 GB document runs in the same memory as a small one; the request is conditional (ETag / \
            Last-Modified): an unchanged document ends the run as `unchanged`. The encoding comes from the XML \
            prolog (EUC-KR documents work without an HTTP charset); a UTF-8 BOM is skipped; external entities and \
            network access from inside the document are disabled. A malformed or truncated document fails the run \
            with its line number and publishes nothing.
            """,
        options: DocumentLocation.options + [
            OptionSpec("record_path", .string, required: true, "The element that holds one record, or a chain ending in it."),
            OptionSpec("fields", .stringMap, "Output field → path below the record (`child/leaf`, `@attr`, `child@attr`)."),
        ],
        example: """
            source:
              plugin: xml-feed
              with:
                url: https://example.go.kr/open/covid19.xml
                record_path: response/body/items/item
                fields: { day: stateDt, cases: decideCnt }
            """
    )

    let location: DocumentLocation
    let recordPath: String
    let fields: [(String, String)]

    public init(options: PluginOptions) throws {
        location = try DocumentLocation(options: options)
        recordPath = options.string("record_path") ?? ""
        fields = options.stringMap("fields")
        guard !recordPath.isEmpty, !recordPath.hasPrefix("/") else {
            throw OptionError(option: "record_path", "must name an element, like 'row' or 'items/item'")
        }
        var seen = Set<String>()
        for (name, path) in fields {
            guard seen.insert(name).inserted else { throw OptionError(option: "fields", "names '\(name)' twice") }
            if path.isEmpty { throw OptionError(option: "fields", "gives '\(name)' an empty path") }
        }
    }

    public func run(into writer: RecordWriter, context: SourceContext) async throws {
        try await location.withFile(context) { file in
            let reader = try XMLRecordReader(path: file, recordPath: recordPath)
            let fields = fields
            // Parsed on a thread of its own while this task batches the records.
            var select: (([(String, Value)]) -> [(String, Value)])?
            if !fields.isEmpty {
                select = { record in fields.map { name, path in (name, record.first { $0.0 == path }?.1 ?? .null) } }
            }
            let count = try await RecordPump.emit(into: writer, batchSize: context.batchSize,
                                                  transform: select) { limit throws(SourceError) in
                try reader.nextChunk(limit: limit)
            }
            context.logger.info("xml-feed: \(count) records")
        }
    }
}
