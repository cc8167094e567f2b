import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SDataCore
import Synchronization

/// A real HTTP server on loopback that answers in the shapes of the city APIs (SOURCES.md), with generated rows, and
/// misbehaves on request: statuses with Retry-After, truncated bodies, slow answers, error envelopes.
final class FixtureServer: Sendable {
    enum Fault: Sendable {
        case status(Int, retryAfter: String? = nil)
        /// Declares the full length, sends half, closes the connection.
        case truncate
        case slow(seconds: Double)
        /// Answers with this body (an error envelope in HTTP 200).
        case body(String)
    }

    struct Settings: Sendable {
        var seoulTotal = 2345
        var seoulKey = "seoul-key+1"
        var goKrTotal = 250
        var goKrKey = "AbC+dEf/gh=="
        var goKrQuota = false
        var taipeiTotal = 2500
        var sgTotal = 2300
        var sgUpdated = "2023-09-12T16:00:00+08:00"
        var sgPollsBeforeReady = 1
        var jsonTotal = 250
        var documentETag = "\"v1\""
        var xmlRows = 1000
    }

    private struct Injected: Sendable {
        var match: String
        var remaining: Int
        var fault: Fault
    }

    private let faults = Mutex<[Injected]>([])
    private let requestLog = Mutex<[String]>([])
    private let polls = Mutex(0)
    let settings = Mutex(Settings())

    /// Makes the next `times` requests whose path and query contain `match` fail with `fault`.
    func inject(_ fault: Fault, on match: String, times: Int = 1) {
        faults.withLock { $0.append(Injected(match: match, remaining: times, fault: fault)) }
    }

    /// Every request's path and query, in order.
    var requests: [String] { requestLog.withLock { $0 } }

    func requests(containing text: String) -> Int { requests.filter { $0.contains(text) }.count }

    /// Starts a server, runs `body` with it and its base URL (`http://127.0.0.1:PORT`), stops it.
    static func with<T: Sendable>(_ configure: @Sendable (inout Settings) -> Void = { _ in },
                                  _ body: @Sendable (FixtureServer, String) async throws -> T) async throws -> T {
        let server = FixtureServer()
        server.settings.withLock { configure(&$0) }
        let router = Router()
        router.on("**", method: .get) { request, _ in try await server.answer(request) }
        router.on("**", method: .post) { request, _ in try await server.answer(request) }
        var logger = Logger(label: "fixture-server")
        logger.logLevel = .critical
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              logger: logger)
        return try await app.test(.live) { client in
            try await body(server, "http://127.0.0.1:\(client.port!)")
        }
    }

    // MARK: - Dispatch

    private func answer(_ request: Request) async throws -> Response {
        let uri = request.uri.description
        requestLog.withLock { $0.append(uri) }
        let path = request.uri.path
        let query = FixtureServer.query(request.uri.query ?? "")
        if let fault = takeFault(for: uri) {
            switch fault {
            case .status(let code, let retryAfter):
                var headers = HTTPFields()
                if let retryAfter { headers[.retryAfter] = retryAfter }
                return Response(status: .init(code: code), headers: headers,
                                body: .init(byteBuffer: ByteBuffer(string: "{\"error\":\"injected\"}")))
            case .slow(let seconds):
                try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            case .body(let text):
                return FixtureServer.text(text, type: text.hasPrefix("<") ? "application/xml" : "application/json")
            case .truncate:
                let full = try await route(path: path, query: query, request: request)
                let bytes = try await full.body.collectBytes()
                let half = ByteBuffer(bytes: bytes.prefix(bytes.count / 2))
                return Response(status: .ok, headers: [.contentType: "application/octet-stream"],
                                body: ResponseBody(contentLength: bytes.count) { writer in
                                    try await writer.write(half)
                                    throw CancellationError()
                                })
            }
        }
        return try await route(path: path, query: query, request: request)
    }

    private func takeFault(for uri: String) -> Fault? {
        faults.withLock { list in
            guard let index = list.firstIndex(where: { $0.remaining > 0 && uri.contains($0.match) }) else { return nil }
            list[index].remaining -= 1
            return list[index].fault
        }
    }

    private func route(path: String, query: [String: String], request: Request) async throws -> Response {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map {
            PercentEncoding.decode(String($0)) ?? String($0)
        }
        let settings = self.settings.withLock { $0 }
        switch parts.first {
        case "seoul": return seoul(Array(parts.dropFirst()), settings)
        case "datagokr": return dataGoKr(query, settings)
        case "taipei": return taipei(query, settings)
        case "api", "v1", "v2", "files": return dataGovSG(parts, query, settings)
        case "json": return json(parts.count > 1 ? parts[1] : "", query, request: request, settings)
        case "feeds": return feed(parts.count > 1 ? parts[1] : "", request: request, settings)
        case "xml": return xmlDocument(rows: Int(query["rows"] ?? "") ?? settings.xmlRows)
        default: return Response(status: .notFound)
        }
    }

    // MARK: - Seoul Open Data Plaza

    static let districts = ["종로구", "중구", "용산구", "성동구", "마포구"]

    static func seoulRow(_ index: Int) -> [(String, String)] {
        [("CORONA19_ID", String(index)), ("CORONA19_DATE", "2021-\(String(format: "%02d", index % 12 + 1))-15"),
         ("CORONA19_NO", ""), ("CORONA19_AREA", districts[index % districts.count]),
         ("CORONA19_CONTACT_HISTORY", index % 3 == 0 ? "감염경로 조사중" : ""), ("CORONA19_LEAVE_STATUS", "")]
    }

    private func seoul(_ parts: [String], _ settings: Settings) -> Response {
        guard parts.count >= 5, let start = Int(parts[3]), let end = Int(parts[4]) else {
            return seoulResult("ERROR-300", "필수 값이 누락되어 있습니다.", type: parts.count > 1 ? parts[1] : "json")
        }
        let (key, type, service) = (parts[0], parts[1], parts[2])
        guard key == settings.seoulKey else { return seoulResult("INFO-100", "인증키가 유효하지 않습니다.", type: type) }
        guard end - start + 1 <= 1000 else { return seoulResult("ERROR-336", "데이터요청은 한번에 최대 1000건을 넘을 수 없습니다.", type: type) }
        let total: Int
        switch service {
        case "Corona19Status": total = settings.seoulTotal
        case "EmptyService": return seoulResult("INFO-200", "해당하는 데이터가 없습니다.", type: type)
        default: return seoulResult("ERROR-310", "해당하는 서비스를 찾을 수 없습니다.", type: type)
        }
        let rows = start > total ? [] : (start...min(end, total)).map(FixtureServer.seoulRow)
        if type == "xml" {
            var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<\(service)>\n<list_total_count>\(total)</list_total_count>\n"
            xml += "<RESULT>\n<CODE>INFO-000</CODE>\n<MESSAGE>정상 처리되었습니다</MESSAGE>\n</RESULT>\n"
            for row in rows {
                xml += "<row>\n" + row.map { $0.1.isEmpty ? "<\($0.0)/>" : "<\($0.0)>\(FixtureServer.escape($0.1))</\($0.0)>" }
                    .joined(separator: "\n") + "\n</row>\n"
            }
            return FixtureServer.text(xml + "</\(service)>\n", type: "application/xml;charset=UTF-8")
        }
        let json = "{\"\(service)\":{\"list_total_count\":\(total),\"RESULT\":{\"CODE\":\"INFO-000\",\"MESSAGE\":\"정상 처리되었습니다\"},"
            + "\"row\":[" + rows.map(FixtureServer.jsonObject).joined(separator: ",") + "]}}"
        return FixtureServer.text(json, type: "application/json;charset=UTF-8")
    }

    private func seoulResult(_ code: String, _ message: String, type: String) -> Response {
        if type == "xml" {
            return FixtureServer.text("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<RESULT>\n<CODE>\(code)</CODE>\n<MESSAGE>\(message)</MESSAGE>\n</RESULT>\n",
                                      type: "application/xml")
        }
        return FixtureServer.text("{\"RESULT\":{\"CODE\":\"\(code)\",\"MESSAGE\":\"\(message)\"}}", type: "application/json")
    }

    // MARK: - data.go.kr

    static func goKrItem(_ index: Int) -> [(String, String)] {
        [("accExamCnt", String(13_000_000 + index * 17)), ("createDt", "2021-08-\(String(format: "%02d", index % 28 + 1)) 09:30:47.611"),
         ("deathCnt", String(2000 + index)), ("decideCnt", String(240_000 + index * 31)), ("seq", String(index)),
         ("stateDt", String(20_210_000 + index)), ("stateTime", "00:00"), ("updateDt", index % 2 == 0 ? "null" : "2021-08-30 10:00:00")]
    }

    private func dataGoKr(_ query: [String: String], _ settings: Settings) -> Response {
        if settings.goKrQuota { return gateway("22", "LIMITED_NUMBER_OF_SERVICE_REQUESTS_EXCEEDS_ERROR") }
        guard query["serviceKey"] == settings.goKrKey else { return gateway("30", "SERVICE_KEY_IS_NOT_REGISTERED_ERROR") }
        let page = Int(query["pageNo"] ?? "1") ?? 1
        let size = Int(query["numOfRows"] ?? "10") ?? 10
        let total = settings.goKrTotal
        let first = (page - 1) * size + 1
        let items = first > total ? [] : (first...min(first + size - 1, total)).map(FixtureServer.goKrItem)
        if query["_type"] == "json" {
            let itemsJSON: String
            switch items.count {
            case 0: itemsJSON = "\"\""
            case 1: itemsJSON = "{\"item\":" + FixtureServer.jsonObject(items[0], numbers: true) + "}"
            default: itemsJSON = "{\"item\":[" + items.map { FixtureServer.jsonObject($0, numbers: true) }.joined(separator: ",") + "]}"
            }
            return FixtureServer.text("{\"response\":{\"header\":{\"resultCode\":\"00\",\"resultMsg\":\"NORMAL SERVICE.\"},"
                                      + "\"body\":{\"items\":\(itemsJSON),\"numOfRows\":\(size),\"pageNo\":\(page),\"totalCount\":\(total)}}}",
                                      type: "application/json")
        }
        let itemsXML = items.isEmpty ? "<items/>" : "<items>" + items.map { item in
            "<item>" + item.map { "<\($0.0)>\($0.1)</\($0.0)>" }.joined() + "</item>"
        }.joined() + "</items>"
        return FixtureServer.text("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><response><header><resultCode>00</resultCode>"
                                  + "<resultMsg>NORMAL SERVICE.</resultMsg></header><body>\(itemsXML)<numOfRows>\(size)</numOfRows>"
                                  + "<pageNo>\(page)</pageNo><totalCount>\(total)</totalCount></body></response>", type: "application/xml")
    }

    private func gateway(_ code: String, _ name: String) -> Response {
        FixtureServer.text("<OpenAPI_ServiceResponse><cmmMsgHeader><errMsg>SERVICE ERROR</errMsg><returnAuthMsg>\(name)</returnAuthMsg>"
                           + "<returnReasonCode>\(code)</returnReasonCode></cmmMsgHeader></OpenAPI_ServiceResponse>", type: "text/xml")
    }

    // MARK: - data.taipei

    private func taipei(_ query: [String: String], _ settings: Settings) -> Response {
        let limit = Int(query["limit"] ?? "1000") ?? 1000
        let offset = Int(query["offset"] ?? "0") ?? 0
        let total = settings.taipeiTotal
        let rows = offset >= total ? [] : (offset..<min(offset + limit, total)).map { index in
            "{\"_id\":\(index + 1),\"_importdate\":{\"date\":\"2022-05-10 14:47:38.971190\",\"timezone_type\":3,\"timezone\":\"Asia/Taipei\"},"
                + "\"日期\":\"2022/05/\(String(format: "%02d", index % 28 + 1))\",\"行政區\":\"中正區\",\"確診人數\":\"\(index % 200)\"}"
        }
        return FixtureServer.text("{\"result\":{\"limit\":\(limit),\"offset\":\(offset),\"count\":\(total),\"sort\":\"\",\"results\":["
                                  + rows.joined(separator: ",") + "]}}", type: "application/json")
    }

    // MARK: - data.gov.sg

    static func sgRecord(_ index: Int) -> [(String, String)] {
        [("_id", String(index)), ("epi_week", "2022-W\(String(format: "%02d", index % 52 + 1))"),
         ("disease", ["Acute Conjunctivitis", "Chickenpox", "HFMD"][index % 3]), ("no._of_cases", String(index % 500))]
    }

    private func dataGovSG(_ parts: [String], _ query: [String: String], _ settings: Settings) -> Response {
        if parts.starts(with: ["api", "action", "datastore_search"]) {
            let id = query["resource_id"] ?? ""
            guard id.hasPrefix("d_") else {
                return FixtureServer.text("{\"help\":\"\",\"success\":false,\"error\":{\"__type\":\"Not Found Error\","
                                          + "\"message\":\"Not found: Resource was not found.\"}}", type: "application/json", status: 404)
            }
            let limit = Int(query["limit"] ?? "100") ?? 100
            let offset = Int(query["offset"] ?? "0") ?? 0
            let total = settings.sgTotal
            let records = offset >= total ? [] : (offset..<min(offset + limit, total)).map { FixtureServer.sgRecord($0 + 1) }
            let next = "/api/action/datastore_search?resource_id=\(id)&limit=\(limit)&offset=\(offset + limit)"
            return FixtureServer.text("{\"help\":\"\",\"success\":true,\"result\":{\"resource_id\":\"\(id)\",\"fields\":[],"
                                      + "\"records\":[" + records.map { FixtureServer.jsonObject($0, numbers: true) }.joined(separator: ",")
                                      + "],\"_links\":{\"start\":\"\",\"next\":\"\(next)\"},\"limit\":\(limit),\"total\":\(total)}}",
                                      type: "application/json")
        }
        if parts.first == "v2", parts.last == "metadata" {
            return FixtureServer.text("{\"code\":0,\"data\":{\"datasetId\":\"\(parts[4])\",\"name\":\"Weekly cases (synthetic)\","
                                      + "\"format\":\"CSV\",\"lastUpdatedAt\":\"\(settings.sgUpdated)\"},\"errorMsg\":\"\"}", type: "application/json")
        }
        if parts.last == "initiate-download" {
            polls.withLock { $0 = 0 }
            return FixtureServer.text("{\"code\":0,\"data\":{\"message\":\"Download initiated\"},\"errorMsg\":\"\"}",
                                      type: "application/json", status: 201)
        }
        if parts.last == "poll-download" {
            let count = polls.withLock { count in
                count += 1
                return count
            }
            if count <= settings.sgPollsBeforeReady {
                return FixtureServer.text("{\"code\":0,\"data\":{\"status\":\"PENDING\"},\"errorMsg\":\"\"}", type: "application/json")
            }
            return FixtureServer.text("{\"code\":0,\"data\":{\"url\":\"/files/\(parts[4]).csv?X-Amz-Signature=SYNTHETIC\"},\"errorMsg\":\"\"}",
                                      type: "application/json")
        }
        if parts.first == "files" {
            var csv = "_id,epi_week,disease,no._of_cases\n"
            for index in 1...settings.sgTotal {
                csv += FixtureServer.sgRecord(index).map(\.1).joined(separator: ",") + "\n"
            }
            return FixtureServer.text(csv, type: "text/csv")
        }
        return Response(status: .notFound)
    }

    // MARK: - Generic JSON

    static func jsonItem(_ index: Int) -> String {
        "{\"id\":\(index),\"name\":\"item \(index)\",\"detail\":{\"district\":\"\(districts[index % districts.count])\"}}"
    }

    private func json(_ style: String, _ query: [String: String], request: Request, _ settings: Settings) -> Response {
        let total = settings.jsonTotal
        func slice(_ from: Int, _ count: Int) -> [String] {
            from >= total ? [] : (from..<min(from + count, total)).map { FixtureServer.jsonItem($0 + 1) }
        }
        switch style {
        case "page":
            let page = Int(query["page"] ?? "1") ?? 1
            let size = Int(query["per_page"] ?? "100") ?? 100
            let items = slice((page - 1) * size, size)
            return FixtureServer.text("{\"data\":{\"items\":[\(items.joined(separator: ","))]},\"total\":\(total)}", type: "application/json")
        case "offset":
            let offset = Int(query["offset"] ?? "0") ?? 0
            let items = slice(offset, Int(query["limit"] ?? "100") ?? 100)
            return FixtureServer.text("{\"items\":[\(items.joined(separator: ","))]}", type: "application/json")
        case "cursor":
            let position = Int(query["cursor"].flatMap { $0.dropFirst().isEmpty ? nil : String($0.dropFirst()) } ?? "0") ?? 0
            let items = slice(position, 100)
            let next = position + 100 < total ? "\"c\(position + 100)\"" : "null"
            return FixtureServer.text("{\"items\":[\(items.joined(separator: ","))],\"meta\":{\"next_cursor\":\(next)}}", type: "application/json")
        case "next":
            let page = Int(query["p"] ?? "1") ?? 1
            let items = slice((page - 1) * 100, 100)
            let next = page * 100 < total ? "\"/json/next?p=\(page + 1)\"" : "null"
            return FixtureServer.text("{\"results\":[\(items.joined(separator: ","))],\"next\":\(next)}", type: "application/json")
        case "link":
            // GitHub style: `page` and `per_page`, the next page in a Link header.
            let page = Int(query["page"] ?? "1") ?? 1
            let size = Int(query["per_page"] ?? "100") ?? 100
            let items = slice((page - 1) * size, size)
            var headers: HTTPFields = [.contentType: "application/json"]
            if page * size < total {
                headers[.init("Link")!] = "</json/link?page=1&per_page=\(size)>; rel=\"first\", "
                    + "</json/link?page=\(page + 1)&per_page=\(size)>; rel=\"next\""
            }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "[" + items.joined(separator: ",") + "]")))
        case "doc":
            if request.headers[.ifNoneMatch] == settings.documentETag { return Response(status: .notModified) }
            return Response(status: .ok, headers: [.contentType: "application/json", .eTag: settings.documentETag],
                            body: .init(byteBuffer: ByteBuffer(string: "[" + slice(0, 3).joined(separator: ",") + "]")))
        case "secret":
            guard request.headers[.init("X-API-Key")!] == "json-key-123" || query["api_key"] == "json-key-123" else {
                return FixtureServer.text("{\"error\":\"unauthorized\"}", type: "application/json", status: 401)
            }
            return FixtureServer.text("[" + slice(0, 2).joined(separator: ",") + "]", type: "application/json")
        default:
            return Response(status: .notFound)
        }
    }

    // MARK: - Feeds and XML documents

    private func feed(_ name: String, request: Request, _ settings: Settings) -> Response {
        guard let data = FileManager.default.contents(atPath: TestSupport.fixtures + "/feeds/" + name) else {
            return Response(status: .notFound)
        }
        if request.headers[.ifNoneMatch] == settings.documentETag { return Response(status: .notModified) }
        // Like many Korean media feeds: no charset in the header, the encoding only in the XML prolog.
        return Response(status: .ok, headers: [.contentType: "application/xml", .eTag: settings.documentETag],
                        body: .init(byteBuffer: ByteBuffer(bytes: Array(data))))
    }

    /// A data.go.kr-shaped document of `rows` items, streamed in chunks.
    private func xmlDocument(rows: Int) -> Response {
        Response(status: .ok, headers: [.contentType: "application/xml"], body: ResponseBody { writer in
            try await writer.write(ByteBuffer(string: "<?xml version=\"1.0\" encoding=\"UTF-8\"?><response><body><items>"))
            var chunk = ""
            for index in 1...max(1, rows) {
                chunk += "<item><seq>\(index)</seq><gubun>\(FixtureServer.districts[index % 5])</gubun><defCnt>\(index * 3)</defCnt></item>"
                if chunk.utf8.count > 1 << 16 {
                    try await writer.write(ByteBuffer(string: chunk))
                    chunk = ""
                }
            }
            try await writer.write(ByteBuffer(string: chunk + "</items></body></response>"))
            try await writer.finish(nil)
        })
    }

    // MARK: - Helpers

    static func text(_ text: String, type: String, status: Int = 200) -> Response {
        Response(status: .init(code: status), headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func jsonObject(_ fields: [(String, String)]) -> String {
        jsonObject(fields, numbers: false)
    }

    /// A JSON object; with `numbers`, values that read as numbers are written as JSON numbers.
    static func jsonObject(_ fields: [(String, String)], numbers: Bool) -> String {
        "{" + fields.map { name, value in
            let written = numbers && Double(value) != nil && !value.hasPrefix("0") ? value : JSONText.quote(value)
            return JSONText.quote(name) + ":" + written
        }.joined(separator: ",") + "}"
    }

    static func escape(_ text: String) -> String {
        text.replacing("&", with: "&amp;").replacing("<", with: "&lt;")
    }

    /// A query decoded the way Java servlet containers do: `+` is a space, then `%XX` escapes.
    static func query(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            result[PercentEncoding.decodeFormComponent(parts[0])] =
                parts.count > 1 ? PercentEncoding.decodeFormComponent(parts[1]) : ""
        }
        return result
    }
}

extension ResponseBody {
    /// The whole body, for faults that cut it short.
    func collectBytes() async throws -> [UInt8] {
        let collector = BodyCollector()
        try await write(collector)
        return collector.bytes.withLock { $0 }
    }
}

private final class BodyCollector: ResponseBodyWriter, Sendable {
    let bytes = Mutex<[UInt8]>([])

    func write(_ buffer: ByteBuffer) async throws {
        bytes.withLock { $0 += Array(buffer.readableBytesView) }
    }

    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
