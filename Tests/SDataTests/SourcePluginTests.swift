import Foundation
import Testing
import Synchronization
import SDataCore
import SDataPluginAPI
import SeoulOpenAPI
import DataGoKr
import DataTaipei
import DataGovSG
import HTTPJSON
import XMLFeed
import RSSAtom

/// Every network plugin against a real loopback server speaking its API's shapes, with faults injected.
@Suite(.serialized) struct SourcePluginTests {
    static func seoul(_ base: String, format: String = "json", service: String = "Corona19Status",
                      key: String = "seoul-key+1") -> [String: ConfigNode] {
        ["key": .scalar(key), "service": .scalar(service), "format": .scalar(format), "base_url": .scalar(base + "/seoul")]
    }

    static func ids(_ records: [[String: Value]], _ field: String) -> [String] {
        records.map { $0[field]?.text ?? "" }
    }

    // MARK: Seoul

    @Test func seoulReadsEveryRowOnceAcrossPagesInJSONAndXML() async throws {
        try await FixtureServer.with { server, base in
            let json = try await PluginHarness.run(SeoulOpenAPI.self, Self.seoul(base))
            #expect(json.records.count == 2345)
            #expect(Set(Self.ids(json.records, "CORONA19_ID")) == Set((1...2345).map(String.init)))
            #expect(server.requests(containing: "/json/Corona19Status/") == 3)
            let xml = try await PluginHarness.run(SeoulOpenAPI.self, Self.seoul(base, format: "xml"))
            #expect(xml.records == json.records, "XML and JSON give the same records (empty values are null in both)")
            #expect(json.records[2]["CORONA19_NO"] == .null)
            #expect(json.records[2]["CORONA19_CONTACT_HISTORY"] == .string("감염경로 조사중"))
        }
    }

    @Test func seoulSurvivesRateLimitsServerErrorsTruncationAndErrorEnvelopes() async throws {
        try await FixtureServer.with { server, base in
            server.inject(.status(429, retryAfter: "1"), on: "/1001/2000")
            server.inject(.status(500), on: "/2001/")
            server.inject(.truncate, on: "/2001/")
            server.inject(.body("{\"RESULT\":{\"CODE\":\"ERROR-500\",\"MESSAGE\":\"서버 오류입니다.\"}}"), on: "/1/1000")
            let started = Date()
            let output = try await PluginHarness.run(SeoulOpenAPI.self, Self.seoul(base))
            #expect(output.records.count == 2345)
            #expect(Set(Self.ids(output.records, "CORONA19_ID")).count == 2345)
            #expect(server.requests(containing: "/json/Corona19Status/") == 7)
            #expect(Date().timeIntervalSince(started) >= 0.9, "Retry-After: 1 was honoured")
            #expect(output.logs.contains { $0.contains("HTTP 429") && $0.contains("retry 1") })
            #expect(!output.logs.joined().contains("seoul-key+1"), "the key in the path is masked in logs")
        }
    }

    @Test func seoulReportsConfigurationCodesClearlyWithoutRetrying() async throws {
        try await FixtureServer.with { server, base in
            let unknown = await PluginHarness.failure(SeoulOpenAPI.self, Self.seoul(base, service: "NoSuchService"))
            let message = "\(unknown.map { "\($0)" } ?? "no error")"
            #expect(message.contains("ERROR-310") && message.contains("no such service"))
            #expect(server.requests(containing: "NoSuchService") == 1, "configuration errors are not retried")
            let badKey = await PluginHarness.failure(SeoulOpenAPI.self, Self.seoul(base, key: "wrong-key-7777"))
            let keyMessage = "\(badKey.map { "\($0)" } ?? "no error")"
            #expect(keyMessage.contains("INFO-100") && keyMessage.contains("key"))
            #expect(!keyMessage.contains("wrong-key-7777"), "the key is masked in the URL shown: \(keyMessage)")
            let empty = try await PluginHarness.run(SeoulOpenAPI.self, Self.seoul(base, service: "EmptyService"))
            #expect(empty.records.isEmpty, "INFO-200 is an empty result, not an error")
        }
    }

    @Test func seoulFailsWhenTheServiceStopsShortOfItsTotal() async throws {
        try await FixtureServer.with { server, base in
            // The second page comes back with no rows although 1345 are still announced.
            server.inject(.body("{\"Corona19Status\":{\"list_total_count\":2345,\"RESULT\":{\"CODE\":\"INFO-000\",\"MESSAGE\":\"\"},\"row\":[]}}"),
                          on: "/1001/2000")
            let error = await PluginHarness.failure(SeoulOpenAPI.self, Self.seoul(base))
            #expect("\(error.map { "\($0)" } ?? "")".contains("incomplete extraction"))
        }
    }

    // MARK: data.go.kr

    static func goKr(_ base: String, key: String = "AbC+dEf/gh==", format: String = "xml") -> [String: ConfigNode] {
        ["endpoint": .scalar(base + "/datagokr/getCovid19InfStateJson"), "service_key": .scalar(key),
         "format": .scalar(format), "page_size": .scalar("100"), "params": .map(["startCreateDt": "20200301"])]
    }

    @Test func dataGoKrPagesBothFormatsAndSendsKeysWithPlusAndSlashIntact() async throws {
        try await FixtureServer.with { server, base in
            let xml = try await PluginHarness.run(DataGoKr.self, Self.goKr(base))
            #expect(xml.records.count == 250)
            #expect(Set(Self.ids(xml.records, "seq")).count == 250)
            #expect(server.requests(containing: "pageNo=") == 3)
            let json = try await PluginHarness.run(DataGoKr.self, Self.goKr(base, format: "json"))
            #expect(json.records.count == 250)
            #expect(json.records[1]["updateDt"] == .null, "the string \"null\" is read as null")
            #expect(json.records[0]["seq"] == .integer(1))
            // The portal's "encoding" key, pasted as issued, is not encoded a second time.
            let encoded = try await PluginHarness.run(DataGoKr.self, Self.goKr(base, key: "AbC%2BdEf%2Fgh%3D%3D"))
            #expect(encoded.records.count == 250)
            #expect(server.requests.allSatisfy { !$0.contains("AbC+dEf") }, "'+' never travels raw")
        }
    }

    @Test func dataGoKrHandlesTheSingleItemAndEmptyQuirks() async throws {
        try await FixtureServer.with({ $0.goKrTotal = 1 }) { server, base in
            let single = try await PluginHarness.run(DataGoKr.self, Self.goKr(base, format: "json"))
            #expect(single.records.count == 1)
            server.settings.withLock { $0.goKrTotal = 0 }
            for format in ["json", "xml"] {
                let empty = try await PluginHarness.run(DataGoKr.self, Self.goKr(base, format: format))
                #expect(empty.records.isEmpty)
            }
            let nodata = "{\"response\":{\"header\":{\"resultCode\":\"03\",\"resultMsg\":\"NODATA_ERROR\"}}}"
            server.inject(.body(nodata), on: "pageNo=1")
            #expect(try await PluginHarness.run(DataGoKr.self, Self.goKr(base, format: "json")).records.isEmpty)
        }
    }

    @Test func dataGoKrStopsAtOnceOnTheDailyQuotaAndExplainsKeyErrors() async throws {
        try await FixtureServer.with({ $0.goKrQuota = true }) { server, base in
            let quota = await PluginHarness.failure(DataGoKr.self, Self.goKr(base, format: "json"))
            let message = "\(quota.map { "\($0)" } ?? "")"
            #expect(message.contains("22") && message.contains("quota"))
            #expect(server.requests.count == 1, "no retry storm against a used-up quota")
            server.settings.withLock { $0.goKrQuota = false }
            let wrong = await PluginHarness.failure(DataGoKr.self, Self.goKr(base, key: "Wrong+Key/0000"))
            let wrongMessage = "\(wrong.map { "\($0)" } ?? "")"
            #expect(wrongMessage.contains("error 30") && wrongMessage.contains("service_key"))
            #expect(!wrongMessage.contains("Wrong") && !wrongMessage.contains("Wrong%2BKey"), "the key is masked")
        }
    }

    @Test func dataGoKrRetriesProviderSideCodes() async throws {
        try await FixtureServer.with { server, base in
            let dbError = "<response><header><resultCode>02</resultCode><resultMsg>DB_ERROR</resultMsg></header></response>"
            server.inject(.body(dbError), on: "pageNo=2")
            server.inject(.body("Unexpected errors"), on: "pageNo=3")
            let output = try await PluginHarness.run(DataGoKr.self, Self.goKr(base))
            #expect(output.records.count == 250)
            #expect(server.requests(containing: "pageNo=") == 5)
        }
    }

    // MARK: data.taipei

    @Test func dataTaipeiPagesByOffsetUntilCount() async throws {
        try await FixtureServer.with { server, base in
            let output = try await PluginHarness.run(DataTaipei.self, [
                "resource_id": .scalar("7f6f1b4a-0000-4000-8000-000000000000"), "base_url": .scalar(base + "/taipei"),
            ])
            #expect(output.records.count == 2500)
            #expect(server.requests(containing: "scope=resourceAquire") == 3)
            #expect(output.records[0]["行政區"] == .string("中正區"))
            #expect(output.records[0]["_importdate.timezone"] == .string("Asia/Taipei"))
            #expect(Set(Self.ids(output.records, "_id")).count == 2500)
        }
    }

    // MARK: data.gov.sg

    static func sg(_ base: String, mode: String = "datastore") -> [String: ConfigNode] {
        ["dataset_id": .scalar("d_0000000000000000000000000000abcd"), "mode": .scalar(mode), "poll_interval": .scalar("1"),
         "datastore_url": .scalar(base), "open_api_url": .scalar(base), "metadata_url": .scalar(base)]
    }

    @Test func dataGovSGFollowsLinksHonoursRateLimitsAndSkipsUnchangedDatasets() async throws {
        try await FixtureServer.with { server, base in
            server.inject(.status(429, retryAfter: "1"), on: "offset=1000")
            let first = try await PluginHarness.run(DataGovSG.self, Self.sg(base))
            #expect(first.records.count == 2300)
            #expect(Set(Self.ids(first.records, "_id")).count == 2300)
            #expect(first.savedState == "lastUpdatedAt: 2023-09-12T16:00:00+08:00")
            let before = server.requests.count
            let second = await PluginHarness.failure(DataGovSG.self, Self.sg(base), state: first.savedState)
            #expect(second is SourceUnchanged)
            #expect(server.requests.count == before + 1, "an unchanged dataset costs one request")
            server.settings.withLock { $0.sgUpdated = "2023-09-19T16:00:00+08:00" }
            #expect(try await PluginHarness.run(DataGovSG.self, Self.sg(base), state: first.savedState).records.count == 2300)
        }
    }

    @Test func dataGovSGDownloadsThroughInitiateAndPoll() async throws {
        try await FixtureServer.with { server, base in
            let output = try await PluginHarness.run(DataGovSG.self, Self.sg(base, mode: "download"))
            #expect(output.records.count == 2300)
            #expect(server.requests(containing: "poll-download") == 2)
            #expect(output.records[0]["disease"] != nil)
            #expect(!output.logs.joined().contains("SYNTHETIC"), "the presigned URL's signature is masked")
        }
    }

    // MARK: http-json

    @Test(arguments: [
        ("page", ["url": "/json/page", "record_path": "data.items", "pagination": "page", "size_param": "per_page",
                  "total_path": "total"]),
        ("offset", ["url": "/json/offset", "record_path": "items", "pagination": "offset", "size_param": "limit"]),
        ("cursor", ["url": "/json/cursor", "record_path": "items", "pagination": "cursor", "cursor_path": "meta.next_cursor"]),
        ("next_url", ["url": "/json/next", "record_path": "results", "pagination": "next_url", "next_url_path": "next"]),
        ("link_header", ["url": "/json/link", "pagination": "link_header"]),
    ])
    func httpJSONPaginatesInEveryStyle(style: String, options: [String: String]) async throws {
        try await FixtureServer.with { server, base in
            var given = options.mapValues { ConfigNode.scalar($0) }
            given["url"] = .scalar(base + options["url"]!)
            let output = try await PluginHarness.run(HTTPJSON.self, given)
            #expect(output.records.count == 250, "\(style)")
            #expect(Set(Self.ids(output.records, "id")) == Set((1...250).map(String.init)), "\(style)")
            #expect(output.records[0]["detail.district"] != nil)
            #expect(server.requests.count >= 3, "\(style) used several pages")
        }
    }

    @Test func httpJSONSendsKeysAndEnvironmentsAndMasksThem() async throws {
        try await FixtureServer.with { server, base in
            let viaHeader = try await PluginHarness.run(HTTPJSON.self, [
                "base_urls": .map(["production": "https://api.invalid", "test": base]), "environment": .scalar("test"),
                "path": .scalar("/json/secret"), "api_key": .scalar("json-key-123"), "api_key_header": .scalar("X-API-Key"),
            ])
            #expect(viaHeader.records.count == 2)
            let viaQuery = try await PluginHarness.run(HTTPJSON.self, [
                "url": .scalar(base + "/json/secret"), "api_key": .scalar("json-key-123"), "api_key_query": .scalar("api_key"),
            ])
            #expect(viaQuery.records.count == 2)
            let wrong = await PluginHarness.failure(HTTPJSON.self, [
                "url": .scalar(base + "/json/secret"), "api_key": .scalar("nope-nope-1"), "api_key_query": .scalar("api_key"),
            ])
            let message = "\(wrong.map { "\($0)" } ?? "")"
            #expect(message.contains("HTTP 401") && !message.contains("nope-nope-1"))
        }
    }

    @Test func aDeclaredRateLimitPacesRequests() async throws {
        try await FixtureServer.with { server, base in
            var settings = PluginHarness.http
            settings.rateLimit = .init(requests: 2, windowSeconds: 1)
            let started = Date()
            let output = try await PluginHarness.run(HTTPJSON.self, [
                "url": .scalar(base + "/json/next"), "record_path": .scalar("results"), "pagination": .scalar("next_url"),
                "next_url_path": .scalar("next"),
            ], settings: settings)
            #expect(output.records.count == 250)
            #expect(Date().timeIntervalSince(started) >= 0.95, "3 requests at 2 per second take at least a second")
        }
    }

    @Test func anUnchangedDocumentCostsOneConditionalRequest() async throws {
        try await FixtureServer.with { server, base in
            let options: [String: ConfigNode] = ["url": .scalar(base + "/json/doc")]
            let first = try await PluginHarness.run(HTTPJSON.self, options)
            #expect(first.records.count == 3)
            #expect(first.savedState?.contains("ETag: \"v1\"") == true)
            let second = await PluginHarness.failure(HTTPJSON.self, options, state: first.savedState)
            #expect(second is SourceUnchanged)
            #expect(server.requests.count == 2)
            server.settings.withLock { $0.documentETag = "\"v2\"" }
            #expect(try await PluginHarness.run(HTTPJSON.self, options, state: first.savedState).records.count == 3)
        }
    }

    @Test func aSlowAnswerHitsTheTimeoutAndAPersistentFaultFailsTheRun() async throws {
        try await FixtureServer.with { server, base in
            server.inject(.slow(seconds: 6), on: "/json/doc", times: 5)
            var settings = PluginHarness.http
            settings.timeoutSeconds = 0.5
            settings.retries = 1
            let started = Date()
            let error = await PluginHarness.failure(HTTPJSON.self, ["url": .scalar(base + "/json/doc")], settings: settings)
            let message = "\(error.map { "\($0)" } ?? "")"
            #expect(message.contains("timeout") && message.contains("gave up after 2 attempts"))
            // Two answers of 6 s each would take 12 s; timed out at 0.5 s they take about one (a loaded CI host once
            // needed 2.9 s, so the bound only has to tell "timed out" from "waited").
            #expect(Date().timeIntervalSince(started) < 5)
            server.inject(.truncate, on: "/xml", times: 10)
            let truncated = await PluginHarness.failure(XMLFeed.self, [
                "url": .scalar(base + "/xml?rows=2000"), "record_path": .scalar("item"),
            ])
            #expect("\(truncated.map { "\($0)" } ?? "")".contains("gave up"), "a body that keeps arriving cut short fails the run")
        }
    }

    // MARK: xml-feed and feed

    @Test func xmlFeedStreamsALargeDocumentAndSelectsFields() async throws {
        try await FixtureServer.with { _, base in
            let output = try await PluginHarness.run(XMLFeed.self, [
                "url": .scalar(base + "/xml?rows=50000"), "record_path": .scalar("items/item"),
                "fields": .map(["id": "seq", "district": "gubun"]),
            ])
            #expect(output.records.count == 50000)
            #expect(output.records[49999] == ["id": .string("50000"), "district": .string("종로구")])
        }
    }

    @Test(arguments: ["press.rss2.xml", "press.rss2.euc-kr.xml", "press.rss2.utf8-bom.xml",
                      "press.rss2.nonstandard-dates.xml", "press.atom.xml"])
    func feedsBecomeOneRecordShape(file: String) async throws {
        try await FixtureServer.with { _, base in
            let output = try await PluginHarness.run(FeedSource.self, ["url": .scalar(base + "/feeds/" + file)])
            #expect(output.records.count == 2)
            #expect(Set(output.records[0].keys) == Set(FeedSource.fieldNames))
            #expect(output.records[0]["title"] == .string("코로나19 선별진료소 운영시간 변경 안내"), "\(file) decoded")
            let date = output.records[0][file.contains("atom") ? "updated" : "published"]
            #expect(date?.text.hasPrefix("2022-03-02T09:") == true && date?.text.hasSuffix("+09:00") == true, "\(file): \(String(describing: date))")
            #expect(output.records[1]["enclosure_length"] == .integer(48213) || file.contains("nonstandard"))
        }
    }

    @Test func feedDatesInTheFormsKoreanFeedsUse() throws {
        let seoul = TimeZone(identifier: "Asia/Seoul")!
        let cases = [
            ("Wed, 02 Mar 2022 09:00:00 +0900", "2022-03-02T09:00:00+09:00"),
            ("02 Mar 2022 09:00 GMT", "2022-03-02T09:00:00+00:00"),
            ("Wed, 02 Mar 2022 09:00:00 KST", "2022-03-02T09:00:00+09:00"),
            ("2022-03-02T09:00:00Z", "2022-03-02T09:00:00+00:00"),
            ("2022-03-02 09:00:00", "2022-03-02T09:00:00+09:00"),
            ("2022.03.01 17:45", "2022-03-01T17:45:00+09:00"),
            ("2022/03/01", "2022-03-01T00:00:00+09:00"),
        ]
        for (text, expected) in cases {
            #expect(FeedSource.parseDate(text, timeZone: seoul)?.description == expected, "\(text)")
        }
        #expect(FeedSource.parseDate("sometime in March", timeZone: seoul) == nil)
    }
}
