import SDataCore
public import SDataPluginAPI
import SDataHTTP

/// `seoul-openapi`: Seoul Open Data Plaza (열린데이터광장), `http://openapi.seoul.go.kr:8088/{KEY}/{TYPE}/{SERVICE}/{START}/{END}`.
public struct SeoulOpenAPI: SourcePlugin {
    public static let descriptor = PluginDescriptor(
        id: "seoul-openapi",
        summary: "Reads a Seoul Open Data Plaza service (XML or JSON), every page, with its RESULT codes checked.",
        details: """
            Requests `START_INDEX/END_INDEX` windows of at most 1000 rows (the service's limit) until \
            `list_total_count` rows have arrived; a run that ends with fewer rows than the service announced fails \
            rather than publish a partial dataset. The `RESULT` code in each HTTP-200 answer is checked, whether it \
            sits at the top level or inside the service element: `INFO-000` is success, `INFO-200` an empty result; \
            `ERROR-500`, `ERROR-600` and `ERROR-601` are server trouble and are retried with back-off; \
            `INFO-100`/`ERROR-290`/`INFO-300` (key), `ERROR-310` (service name), `ERROR-335` (sample key), \
            `ERROR-336` (page size) and the other codes are configuration errors that stop the run with the \
            service's message; `ERROR-337` (daily traffic exceeded) stops without retrying. The key sits in the \
            URL path and is masked wherever a URL is logged or shown. Empty values (`""` in JSON, `<X/>` in XML) \
            are null, so both formats give the same records. Every value arrives as text; declare a `schema:` to \
            type them.
            """,
        options: [
            OptionSpec("key", .string, required: true, secret: true,
                       "The API key (인증키); write it as `${secret:SEOUL_API_KEY}`."),
            OptionSpec("service", .string, required: true, "The service name, like `TbCorona19CountStatus`."),
            OptionSpec("format", .choice(["json", "xml"]), default: "json", "The answer format requested."),
            OptionSpec("page_size", .integer(1...1000), default: "1000", "Rows per request (the service allows 1000)."),
            OptionSpec("filters", .stringList,
                       "Positional filters that follow END_INDEX in the path, in the service's order."),
            OptionSpec("base_url", .string, default: "http://openapi.seoul.go.kr:8088",
                       "Where the API is served; change it only for a mirror or a test server."),
        ],
        example: """
            source:
              plugin: seoul-openapi
              with:
                key: ${secret:SEOUL_API_KEY}
                service: TbCorona19CountStatus
                format: xml
            """
    )

    let key: String
    let service: String
    let format: String
    let pageSize: Int
    let filters: [String]
    let baseURL: String

    public init(options: PluginOptions) throws {
        key = options.string("key") ?? ""
        service = options.string("service") ?? ""
        format = options.string("format") ?? "json"
        pageSize = options.int("page_size") ?? 1000
        filters = options.strings("filters") ?? []
        baseURL = String((options.string("base_url") ?? "").trimmingSuffix("/"))
        guard !key.isEmpty else { throw OptionError(option: "key", "must not be empty") }
        guard !service.isEmpty, service.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            throw OptionError(option: "service", "must be a service name of letters, digits and underscores")
        }
        try HTTPOptions.checkURL(baseURL, option: "base_url")
    }

    /// One page's outcome.
    struct Page {
        var rows: [JSONValue]
        var total: Int
    }

    public func run(into writer: RecordWriter, context: SourceContext) async throws {
        var output = BatchingWriter(writer, batchSize: context.batchSize)
        try await HTTPFetcher.session(context, secrets: [key]) { http in
            var start = 1
            var tally = PageTally()
            while tally.wantsMore(received: output.count) {
                var end = start + pageSize - 1
                if let total = tally.total { end = min(end, total) }
                let path = ([key, format, service, String(start), String(end)] + filters).map(URLText.segment)
                let call = HTTPCall(url: baseURL + "/" + path.joined(separator: "/"), label: "rows \(start)–\(end)")
                let page = try await http.fetch(call) { reply in try interpret(reply) }
                guard try tally.accept(total: page.total, rows: page.rows.count, received: output.count,
                                       place: "\(service): rows \(start)–\(end)") else { break }
                for row in page.rows { try await output.append(row) }
                start += page.rows.count
            }
            try await output.finish()
            context.logger.info("\(service): \(output.count) rows")
        }
    }

    /// Reads one answer: the envelope's RESULT code decides between rows, an empty result and an error.
    func interpret(_ reply: HTTPReply) throws -> Page {
        try reply.requireSuccess()
        let document = try reply.document()
        let envelope = document[service]
        let result = envelope?["RESULT"] ?? document["RESULT"]
        guard let code = result?["CODE"]?.text else {
            throw SourceError("\(reply.origin): the answer has no RESULT code; is '\(service)' a Seoul Open API service?")
        }
        let message = result?["MESSAGE"]?.text ?? ""
        switch code {
        case "INFO-000":
            guard let total = envelope?["list_total_count"]?.integer else {
                throw SourceError("\(reply.origin): the answer has no list_total_count", retryable: true)
            }
            return Page(rows: envelope?["row"]?.records ?? [], total: total)
        case "INFO-200":
            return Page(rows: [], total: 0)
        case "ERROR-500", "ERROR-600", "ERROR-601":
            throw SourceError("\(reply.origin): the service reports \(code) (\(message))", retryable: true)
        default:
            throw SourceError("\(reply.origin): \(code): \(SeoulOpenAPI.explain(code))\(message.isEmpty ? "" : " — “\(message)”")")
        }
    }

    /// What a steward should do about a code.
    static func explain(_ code: String) -> String {
        switch code {
        case "INFO-100", "ERROR-290": "the API key was rejected; check the 'key' secret"
        case "INFO-300": "the API key is restricted; check its permissions on data.seoul.go.kr"
        case "ERROR-300": "a required value is missing; check 'service' and 'filters'"
        case "ERROR-301": "the answer type was refused; use format json or xml"
        case "ERROR-310": "there is no such service; check 'service' (retired services answer this too)"
        case "ERROR-331", "ERROR-332", "ERROR-333", "ERROR-334": "the row window was refused; check 'page_size'"
        case "ERROR-335": "the sample key may read rows 1–5 only; use a real key"
        case "ERROR-336": "more than 1000 rows were requested at once; lower 'page_size'"
        case "ERROR-337": "the daily traffic limit is used up; the run stops and should be tried again tomorrow"
        default: "the service refused the request"
        }
    }
}
