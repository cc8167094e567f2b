import SDataCore
public import SDataPluginAPI
import SDataHTTP

/// `data-taipei`: data.taipei's dataset API, `scope=resourceAquire` (sic) with `limit`/`offset`/`count`.
public struct DataTaipei: SourcePlugin {
    public static let descriptor = PluginDescriptor(
        id: "data-taipei",
        summary: "Reads a data.taipei dataset resource through its resourceAquire API, every page.",
        details: """
            Requests `limit` rows at `offset` 0, `limit`, 2×`limit`, … until `count` rows have arrived; ending with \
            fewer fails the run. Field names are the dataset's own (often Chinese); values arrive as text. The \
            `_importdate` object becomes `_importdate.date`, `_importdate.timezone_type` and `_importdate.timezone` \
            unless `import_date: false` drops it. data.taipei documents no error envelope: an answer without \
            `result` is an error naming the request.
            """,
        options: [
            OptionSpec("resource_id", .string, required: true, "The resource id (rid), a UUID from the dataset page."),
            OptionSpec("page_size", .integer(1...1000), default: "1000", "`limit`: rows per request."),
            OptionSpec("q", .string, "A full-text filter passed as `q`."),
            OptionSpec("import_date", .boolean, default: "true", "Keep data.taipei's `_importdate` fields."),
            OptionSpec("base_url", .string, default: "https://data.taipei",
                       "Where the API is served; change it only for a mirror or a test server."),
        ],
        example: """
            source:
              plugin: data-taipei
              with:
                resource_id: 7f6f1b4a-0000-4000-8000-000000000000
            """
    )

    let resourceID: String
    let pageSize: Int
    let query: String?
    let importDate: Bool
    let baseURL: String

    public init(options: PluginOptions) throws {
        resourceID = options.string("resource_id") ?? ""
        pageSize = options.int("page_size") ?? 1000
        query = options.string("q")
        importDate = options.bool("import_date") ?? true
        baseURL = String((options.string("base_url") ?? "").trimmingSuffix("/"))
        guard !resourceID.isEmpty, resourceID.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
            throw OptionError(option: "resource_id", "must be the resource's id (hex digits and dashes)")
        }
        try HTTPOptions.checkURL(baseURL, option: "base_url")
    }

    public func run(into writer: RecordWriter, context: SourceContext) async throws {
        var output = BatchingWriter(writer, batchSize: context.batchSize)
        try await HTTPFetcher.session(context) { http in
            var offset = 0
            var tally = PageTally()
            while tally.wantsMore(received: offset) {
                var parameters = [("scope", "resourceAquire"), ("limit", String(pageSize)), ("offset", String(offset))]
                if let query { parameters.append(("q", query)) }
                let url = URLText.with(baseURL + "/api/v1/dataset/" + resourceID, query: parameters)
                let (rows, total) = try await http.fetch(HTTPCall(url: url, label: "offset \(offset)")) { reply in
                    try reply.requireSuccess()
                    let result = try reply.document()["result"]
                    guard let result, let total = result["count"]?.integer, let rows = result["results"] else {
                        throw SourceError("\(reply.origin): the answer has no result.count and result.results")
                    }
                    return (rows.records, total)
                }
                guard try tally.accept(total: total, rows: rows.count, received: offset, place: "offset \(offset)") else { break }
                for row in rows {
                    var fields = row.recordFields()
                    if !importDate { fields.removeAll { $0.0.hasPrefix("_importdate") } }
                    try await output.append(fields)
                }
                offset += rows.count
            }
            try await output.finish()
            context.logger.info("data.taipei: \(output.count) rows")
        }
    }
}
