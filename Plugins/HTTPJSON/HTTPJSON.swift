import SDataCore
public import SDataPluginAPI
import SDataHTTP

/// `http-json`: any JSON API, with the common pagination styles.
public struct HTTPJSON: SourcePlugin {
    public enum Pagination: String, Sendable, CaseIterable {
        case none, page, offset, cursor, nextURL = "next_url", linkHeader = "link_header"
    }

    public static let descriptor = PluginDescriptor(
        id: "http-json",
        summary: "Reads any JSON API: a record path, five pagination styles, an API key in a header or the query.",
        details: """
            Records are read at `record_path` (dot-separated keys; empty for a top-level array). Pagination: \
            `page` increments `page_param` from `start_page`; `offset` advances `offset_param` by the records \
            received; both stop at an empty or short page or when `total_path` says all records arrived. \
            `cursor` sends the value found at `cursor_path` as `cursor_param` until it is missing or repeats; \
            `next_url` follows the URL at `next_url_path`; `link_header` follows RFC 8288 `Link: <…>; rel="next"`. \
            `max_pages` stops a runaway API (the run fails rather than publish a partial dataset). \
            The URL comes from `url`, or from `base_urls` (one per environment) chosen by `environment` and joined \
            with `path`. `api_key` goes in `api_key_header`, or in the query as `api_key_query`, or else as \
            `Authorization: Bearer`; it is masked wherever a URL is shown. When the source has a cursor field \
            (`source.incremental`) and `since_param` is set, the saved bookmark is sent as that parameter. Without \
            pagination the request is conditional (ETag / Last-Modified): an unchanged document ends the run as \
            `unchanged` after one request.
            """,
        options: [
            OptionSpec("url", .string, "The API URL; or use `base_urls` with `path`."),
            OptionSpec("base_urls", .stringMap, "A base URL per environment, like `{production: https://…, test: http://…}`."),
            OptionSpec("environment", .string, "Which of `base_urls` to use, often `${SDATA_ENVIRONMENT}`."),
            OptionSpec("path", .string, default: "", "Appended to the chosen base URL."),
            OptionSpec("record_path", .string, default: "", "Dot-separated keys to the records; empty for the top level."),
            OptionSpec("pagination", .choice(Pagination.allCases.map(\.rawValue)), default: "none", "The paging style."),
            OptionSpec("page_param", .string, default: "page", "page: the page-number parameter."),
            OptionSpec("start_page", .integer(0...1), default: "1", "page: the first page's number."),
            OptionSpec("size_param", .string, "page/offset: the page-size parameter (not sent when unset)."),
            OptionSpec("page_size", .integer(1...100_000), default: "100", "page/offset: records per page."),
            OptionSpec("offset_param", .string, default: "offset", "offset: the offset parameter."),
            OptionSpec("cursor_param", .string, default: "cursor", "cursor: the parameter carrying the cursor."),
            OptionSpec("cursor_path", .string, "cursor: dot-separated path to the next cursor in each answer."),
            OptionSpec("next_url_path", .string, "next_url: dot-separated path to the next page's URL."),
            OptionSpec("total_path", .string, "Dot-separated path to the total record count, when the API gives one."),
            OptionSpec("max_pages", .integer(1...10_000_000), default: "100000", "Fail beyond this many pages."),
            OptionSpec("query", .stringMap, "Query parameters sent with every request."),
            OptionSpec("headers", .stringMap, "Headers sent with every request."),
            OptionSpec("api_key", .string, secret: true, "An API key; write it as `${secret:NAME}`."),
            OptionSpec("api_key_header", .string, "Send `api_key` in this header (like `X-API-Key`)."),
            OptionSpec("api_key_query", .string, "Send `api_key` as this query parameter."),
            OptionSpec("since_param", .string, "With `source.incremental`, send the saved bookmark as this parameter."),
        ],
        example: """
            source:
              plugin: http-json
              with:
                base_urls: { production: "https://api.example.org", test: "http://127.0.0.1:8080" }
                environment: production
                path: /v1/cases
                record_path: data.items
                pagination: page
                size_param: per_page
                api_key: ${secret:EXAMPLE_API_KEY}
                api_key_header: X-API-Key
            """
    )

    let url: String
    let recordPath: String
    let pagination: Pagination
    let pageParam: String
    let startPage: Int
    let sizeParam: String?
    let pageSize: Int
    let offsetParam: String
    let cursorParam: String
    let cursorPath: String?
    let nextURLPath: String?
    let totalPath: String?
    let maxPages: Int
    let query: [(String, String)]
    let headers: [(String, String)]
    let apiKey: String?
    let apiKeyHeader: String?
    let apiKeyQuery: String?
    let sinceParam: String?

    public init(options: PluginOptions) throws {
        let bases = options.stringMap("base_urls")
        if let direct = options.string("url") {
            guard bases.isEmpty else { throw OptionError(option: "url", "and 'base_urls' exclude each other; use one") }
            url = direct
        } else {
            guard !bases.isEmpty else { throw OptionError(option: "url", "or 'base_urls' is required") }
            guard let environment = options.string("environment"), !environment.isEmpty else {
                throw OptionError(option: "environment", "must name one of base_urls: \(bases.map(\.0).joined(separator: ", "))")
            }
            guard let base = bases.first(where: { $0.0 == environment })?.1 else {
                throw OptionError(option: "environment", "'\(environment)' is not one of base_urls: "
                                  + bases.map(\.0).joined(separator: ", "))
            }
            url = String(base.trimmingSuffix("/")) + (options.string("path") ?? "")
        }
        try HTTPOptions.checkURL(url, option: options.contains("url") ? "url" : "base_urls")
        recordPath = options.string("record_path") ?? ""
        pagination = Pagination(rawValue: options.string("pagination") ?? "none") ?? .none
        pageParam = options.string("page_param") ?? "page"
        startPage = options.int("start_page") ?? 1
        sizeParam = options.string("size_param")
        pageSize = options.int("page_size") ?? 100
        offsetParam = options.string("offset_param") ?? "offset"
        cursorParam = options.string("cursor_param") ?? "cursor"
        cursorPath = options.string("cursor_path")
        nextURLPath = options.string("next_url_path")
        totalPath = options.string("total_path")
        maxPages = options.int("max_pages") ?? 100_000
        query = options.stringMap("query")
        headers = options.stringMap("headers")
        apiKey = options.string("api_key").flatMap { $0.isEmpty ? nil : $0 }
        apiKeyHeader = options.string("api_key_header")
        apiKeyQuery = options.string("api_key_query")
        sinceParam = options.string("since_param")
        if pagination == .cursor, cursorPath == nil {
            throw OptionError(option: "cursor_path", "is required with pagination: cursor")
        }
        if pagination == .nextURL, nextURLPath == nil {
            throw OptionError(option: "next_url_path", "is required with pagination: next_url")
        }
        if apiKeyHeader != nil, apiKeyQuery != nil {
            throw OptionError(option: "api_key_query", "and 'api_key_header' exclude each other")
        }
        if apiKey == nil, apiKeyHeader != nil || apiKeyQuery != nil {
            throw OptionError(option: apiKeyHeader != nil ? "api_key_header" : "api_key_query", "needs 'api_key'")
        }
    }

    var requestHeaders: [(String, String)] {
        var all = headers
        if let apiKey, apiKeyQuery == nil { all.append((apiKeyHeader ?? "Authorization", apiKeyHeader == nil ? "Bearer " + apiKey : apiKey)) }
        return all
    }

    func firstURL(bookmark: String?) -> String {
        var parameters = query
        if let apiKey, let apiKeyQuery { parameters.append((apiKeyQuery, apiKey)) }
        if let sinceParam, let bookmark { parameters.append((sinceParam, bookmark)) }
        return URLText.with(url, query: parameters)
    }

    public func run(into writer: RecordWriter, context: SourceContext) async throws {
        var output = BatchingWriter(writer, batchSize: context.batchSize, emptyAsNull: false)
        try await HTTPFetcher.session(context, secrets: apiKey.map { [$0] } ?? []) { http in
            let first = firstURL(bookmark: context.bookmark)
            var next: String? = first
            var page = 0
            var previousCursor: String?
            var total: Int?
            while let current = next {
                page += 1
                guard page <= maxPages else {
                    throw SourceError("more than \(maxPages) pages (max_pages); nothing is published from an unfinished extraction")
                }
                let requestURL = current == first ? pagedURL(first, page: page, received: output.count) : current
                let conditional = pagination == .none
                let validators = conditional ? Validators(state: context.state, url: requestURL) : nil
                let answer = try await http.fetch(HTTPCall(url: requestURL, headers: requestHeaders, label: "page \(page)"),
                                                  validators: validators) { reply in
                    try reply.requireSuccess()
                    let document = try reply.document()
                    let records: [JSONValue]
                    if recordPath.isEmpty {
                        records = document.records
                    } else {
                        guard let found = document.value(at: recordPath) else {
                            throw SourceError("\(reply.origin): the answer has nothing at record_path '\(recordPath)'")
                        }
                        records = found.records
                    }
                    return (records, document, reply.header("Link"), conditional ? Validators(reply: reply) : nil)
                }
                let (records, document, link, newValidators) = answer
                if let newValidators { context.saveState(newValidators.state(for: requestURL)) }
                for record in records { try await output.append(record) }
                if let totalPath { total = document.value(at: totalPath)?.integer ?? total }
                if let total, output.count >= total { break }
                switch pagination {
                case .none:
                    next = nil
                case .page, .offset:
                    next = records.isEmpty || records.count < pageSize ? nil : first
                case .cursor:
                    let cursor = document.value(at: cursorPath!)?.text
                    if let cursor, !cursor.isEmpty, cursor != previousCursor, !records.isEmpty {
                        previousCursor = cursor
                        next = URLText.with(first, query: [(cursorParam, cursor)])
                    } else {
                        next = nil
                    }
                case .nextURL:
                    next = document.value(at: nextURLPath!)?.text.flatMap { $0.isEmpty ? nil : URLText.resolve($0, against: current) }
                case .linkHeader:
                    next = link.flatMap(HTTPJSON.nextLink).map { URLText.resolve($0, against: current) }
                }
            }
            if let total, output.count < total {
                throw SourceError("the API announced \(total) records but \(output.count) arrived; nothing is published "
                                  + "from an incomplete extraction")
            }
            try await output.finish()
            context.logger.info("http-json: \(output.count) records in \(page) pages")
        }
    }

    /// The URL of page `page` for the counting styles; other styles follow links from the answers.
    func pagedURL(_ first: String, page: Int, received: Int) -> String {
        var parameters: [(String, String)] = []
        switch pagination {
        case .page: parameters.append((pageParam, String(startPage + page - 1)))
        case .offset: parameters.append((offsetParam, String(received)))
        default: return first
        }
        if let sizeParam { parameters.append((sizeParam, String(pageSize))) }
        return URLText.with(first, query: parameters)
    }

    /// The `rel="next"` target of an RFC 8288 `Link` header.
    static func nextLink(_ header: String) -> String? {
        for part in header.split(separator: ",") {
            let pieces = part.split(separator: ";").map { String($0).trimmingWhitespace() }
            guard let target = pieces.first, target.hasPrefix("<"), target.hasSuffix(">") else { continue }
            let isNext = pieces.dropFirst().contains { piece in
                let lower = piece.lowercased().replacing(" ", with: "")
                return lower == "rel=\"next\"" || lower == "rel=next"
            }
            if isNext { return String(target.dropFirst().dropLast()) }
        }
        return nil
    }
}
