import SDataCore
public import SDataPluginAPI
import SDataHTTP

/// `data-go-kr`: Korea's public data portal (공공데이터포털), `pageNo`/`numOfRows`/`totalCount` services.
public struct DataGoKr: SourcePlugin {
    public static let descriptor = PluginDescriptor(
        id: "data-go-kr",
        summary: "Reads a data.go.kr service page by page (XML or JSON), with both error envelopes understood.",
        details: """
            Requests `pageNo` 1, 2, … with `numOfRows` rows until `totalCount` items have arrived; ending with fewer \
            fails the run. Items are read at `items_path` whatever the quirk: a list, a single object (one result) \
            or an empty string / `<items/>` (none); the string `"null"` is read as null. Errors are recognised in \
            both envelopes and in either format, since the gateway answers in XML even when JSON was asked for: \
            the gateway's `OpenAPI_ServiceResponse` (`returnReasonCode`) and the provider's `response/header/resultCode` \
            (success is `00`, `000`, `0000` or `0`; `03` NODATA is an empty result). Codes 01, 02, 04, 05 and 99 \
            are retried with back-off; 22 (daily quota exceeded) stops the run at once with no retries; the other \
            codes (10–12, 20, 21, 30–33) are configuration errors reported with what to check. The service key is \
            sent strictly percent-encoded, so keys with `+`, `/` and `=` work; a key pasted in its already-encoded \
            form (it contains `%2B` or similar) is sent as it is, never encoded twice. The key is masked wherever a \
            URL is logged or shown.
            """,
        options: [
            OptionSpec("endpoint", .string, required: true,
                       "The operation URL, like `http://apis.data.go.kr/1352000/ODMS_COVID_04/callCovid04Api`."),
            OptionSpec("service_key", .string, required: true, secret: true,
                       "The service key (일반 인증키), decoded or encoded form; write it as `${secret:DATA_GO_KR_KEY}`."),
            OptionSpec("format", .choice(["xml", "json"]), default: "xml", "The answer format requested."),
            OptionSpec("format_parameter", .string, default: "_type",
                       "The query parameter that asks for JSON (`_type`; newer services use `apiType` or `type`)."),
            OptionSpec("page_size", .integer(1...10_000), default: "100", "`numOfRows`: items per page."),
            OptionSpec("params", .stringMap, "Other query parameters, like `startCreateDt: \"20200301\"`."),
            OptionSpec("items_path", .string, default: "response.body.items.item",
                       "Dot-separated path to the items in the answer."),
            OptionSpec("total_path", .string, default: "response.body.totalCount",
                       "Dot-separated path to the total item count."),
        ],
        example: """
            source:
              plugin: data-go-kr
              with:
                endpoint: http://openapi.data.go.kr/openapi/service/rest/Covid19/getCovid19InfStateJson
                service_key: ${secret:DATA_GO_KR_KEY}
                params: { startCreateDt: "20200301", endCreateDt: "20221231" }
            """
    )

    let endpoint: String
    let serviceKey: String
    let format: String
    let formatParameter: String
    let pageSize: Int
    let params: [(String, String)]
    let itemsPath: String
    let totalPath: String

    public init(options: PluginOptions) throws {
        endpoint = options.string("endpoint") ?? ""
        serviceKey = options.string("service_key") ?? ""
        format = options.string("format") ?? "xml"
        formatParameter = options.string("format_parameter") ?? "_type"
        pageSize = options.int("page_size") ?? 100
        params = options.stringMap("params")
        itemsPath = options.string("items_path") ?? "response.body.items.item"
        totalPath = options.string("total_path") ?? "response.body.totalCount"
        try HTTPOptions.checkURL(endpoint, option: "endpoint")
        guard !serviceKey.isEmpty else { throw OptionError(option: "service_key", "must not be empty") }
        let reserved = ["serviceKey", "pageNo", "numOfRows", formatParameter]
        if let clash = params.first(where: { reserved.contains($0.0) }) {
            throw OptionError(option: "params", "must not set '\(clash.0)': the plugin sets it")
        }
    }

    struct Page {
        var items: [JSONValue]
        var total: Int
    }

    func url(page: Int) -> String {
        var query: [(String, String)] = [("serviceKey", serviceKey), ("pageNo", String(page)), ("numOfRows", String(pageSize))]
        if format == "json" { query.append((formatParameter, "json")) }
        query += params
        let encoded: Set<String> = PercentEncoding.isEncoded(serviceKey) ? ["serviceKey"] : []
        return URLText.with(endpoint, query: query, preEncoded: encoded)
    }

    public func run(into writer: RecordWriter, context: SourceContext) async throws {
        var output = BatchingWriter(writer, batchSize: context.batchSize)
        try await HTTPFetcher.session(context, secrets: [serviceKey]) { http in
            var page = 1
            var tally = PageTally(noun: "items")
            while tally.wantsMore(received: output.count) {
                let answer = try await http.fetch(HTTPCall(url: url(page: page), label: "page \(page)")) { reply in
                    try interpret(reply)
                }
                guard try tally.accept(total: answer.total, rows: answer.items.count, received: output.count,
                                       place: "page \(page)") else { break }
                for item in answer.items {
                    try await output.append(item.recordFields().map { ($0.0, $0.1 == .string("null") ? .null : $0.1) })
                }
                page += 1
            }
            try await output.finish()
            context.logger.info("data.go.kr: \(output.count) items in \(page - 1) pages")
        }
    }

    func interpret(_ reply: HTTPReply) throws -> Page {
        if reply.documentKind == .other, (200..<300).contains(reply.status) {
            // Some gateways answer a bare `Unexpected errors`: a hiccup worth another attempt.
            throw SourceError("\(reply.origin): the gateway answered with plain text\(reply.text.count <= 80 ? ": '\(reply.text.trimmingWhitespace())'" : "")",
                              retryable: true)
        }
        let document = try reply.envelope()
        if let gateway = document["OpenAPI_ServiceResponse"]?["cmmMsgHeader"] {
            let code = gateway["returnReasonCode"]?.text ?? "?"
            let name = gateway["returnAuthMsg"]?.text ?? gateway["errMsg"]?.text ?? ""
            throw DataGoKr.error(code: code, name: name, origin: reply.origin, gateway: true)
        }
        try reply.requireSuccess()
        let header = document.value(at: "response.header")
        let code = header?["resultCode"]?.text ?? ""
        let name = header?["resultMsg"]?.text ?? ""
        if code == "03" { return Page(items: [], total: 0) }
        guard ["00", "000", "0000", "0"].contains(code) else {
            if code.isEmpty {
                throw SourceError("\(reply.origin): the answer has neither response/header/resultCode nor a gateway error; "
                                  + "is 'endpoint' a data.go.kr operation?")
            }
            throw DataGoKr.error(code: code, name: name, origin: reply.origin, gateway: false)
        }
        let items = document.value(at: itemsPath)?.records ?? []
        guard let total = document.value(at: totalPath)?.integer else {
            if items.isEmpty, document.value(at: itemsPath) != nil || document.value(at: "response.body") != nil {
                return Page(items: [], total: 0)
            }
            throw SourceError("\(reply.origin): no total count at '\(totalPath)'", retryable: true)
        }
        return Page(items: items, total: total)
    }

    /// The portal's code table (SOURCES.md B.2) turned into what to do.
    static func error(code: String, name: String, origin: String, gateway: Bool) -> SourceError {
        let said = name.isEmpty ? "" : " \(name)"
        let prefix = "\(origin): \(gateway ? "gateway" : "service") error \(code)\(said)"
        switch code {
        case "01", "02", "04", "05", "99":
            return SourceError("\(prefix): a problem on the portal's side", retryable: true)
        case "22":
            return SourceError("\(prefix): the key's daily request quota is used up; the run stops now without "
                               + "retrying (the quota resets at midnight KST)")
        case "30":
            return SourceError("\(prefix): the portal does not know this service key; check 'service_key' (the "
                               + "decoded key, or the encoded key copied exactly) and that this API was approved for it")
        case "20": return SourceError("\(prefix): this key is not approved for this API (활용신청)")
        case "21": return SourceError("\(prefix): the key is temporarily disabled")
        case "31": return SourceError("\(prefix): the key's usage period has expired; renew it on data.go.kr")
        case "32": return SourceError("\(prefix): this machine's IP address is not registered for the key")
        case "12": return SourceError("\(prefix): there is no such service; check 'endpoint'")
        case "10", "11": return SourceError("\(prefix): a request parameter is missing or invalid; check 'params'")
        default: return SourceError("\(prefix): the portal refused the request")
        }
    }
}
