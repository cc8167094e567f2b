import SDataCore
public import SDataPluginAPI
import SDataHTTP

/// `data-gov-sg`: Singapore's data.gov.sg — the CKAN-style datastore search, the v2 metadata API and the
/// initiate/poll bulk download, within its published rate limits.
public struct DataGovSG: SourcePlugin {
    public enum Mode: String, Sendable, CaseIterable { case datastore, download }

    public static let descriptor = PluginDescriptor(
        id: "data-gov-sg",
        summary: "Reads a data.gov.sg dataset by datastore search or bulk download, skipping unchanged datasets.",
        details: """
            Every run first asks the v2 metadata API for the dataset (`…/v2/public/api/datasets/{id}/metadata`): \
            its name is logged, and when its `lastUpdatedAt` equals the one recorded with the last published version \
            the run ends as `unchanged` after that one request. \
            `mode: datastore` pages through `datastore_search` following `_links.next` until `total` records have \
            arrived (ending with fewer fails the run); `success: false` answers report CKAN's error message. \
            `mode: download` calls `initiate-download`, polls `poll-download` every `poll_interval` until it returns \
            a file URL (failing after `poll_timeout`), then streams the CSV to disk and reads it in constant memory; \
            the presigned URL is fetched at once, since it expires. Both `errorMsg` and `errMsg` are read. \
            Requests are paced to data.gov.sg's quotas (per 10 s: datastore 4 without a key, 8 with one; downloads \
            2 and 4) unless `source.http.rate_limit` says otherwise; an HTTP 429 is retried after its `Retry-After`.
            """,
        options: [
            OptionSpec("dataset_id", .string, required: true, "The dataset id, `d_` and 32 hex digits."),
            OptionSpec("mode", .choice(Mode.allCases.map(\.rawValue)), default: "datastore",
                       "`datastore` (paged JSON) or `download` (the whole CSV file)."),
            OptionSpec("api_key", .string, secret: true, "An API key sent as `x-api-key`; raises the rate limits."),
            OptionSpec("page_size", .integer(1...10_000), default: "1000", "datastore: records per request."),
            OptionSpec("q", .string, "datastore: a full-text query."),
            OptionSpec("filters", .stringMap, "datastore: field = value filters, sent as CKAN's `filters` JSON."),
            OptionSpec("skip_unchanged", .boolean, default: "true",
                       "End the run as unchanged when the metadata's lastUpdatedAt has not moved."),
            OptionSpec("poll_interval", .integer(1...600), default: "5", "download: seconds between polls."),
            OptionSpec("poll_timeout", .integer(1...7200), default: "600", "download: seconds to wait for the file."),
            OptionSpec("datastore_url", .string, default: "https://data.gov.sg",
                       "Base URL of the datastore API (change only for a test server)."),
            OptionSpec("open_api_url", .string, default: "https://api-open.data.gov.sg",
                       "Base URL of the download API (change only for a test server)."),
            OptionSpec("metadata_url", .string, default: "https://api-production.data.gov.sg",
                       "Base URL of the v2 metadata API (change only for a test server)."),
        ],
        example: """
            source:
              plugin: data-gov-sg
              with:
                dataset_id: d_11111111111111111111111111111111
                mode: download
            """
    )

    let datasetID: String
    let mode: Mode
    let apiKey: String?
    let pageSize: Int
    let query: String?
    let filters: [(String, String)]
    let skipUnchanged: Bool
    let pollInterval: Int
    let pollTimeout: Int
    let datastoreURL: String
    let openAPIURL: String
    let metadataURL: String

    public init(options: PluginOptions) throws {
        datasetID = options.string("dataset_id") ?? ""
        mode = Mode(rawValue: options.string("mode") ?? "datastore") ?? .datastore
        apiKey = options.string("api_key").flatMap { $0.isEmpty ? nil : $0 }
        pageSize = options.int("page_size") ?? 1000
        query = options.string("q")
        filters = options.stringMap("filters")
        skipUnchanged = options.bool("skip_unchanged") ?? true
        pollInterval = options.int("poll_interval") ?? 5
        pollTimeout = options.int("poll_timeout") ?? 600
        datastoreURL = String((options.string("datastore_url") ?? "").trimmingSuffix("/"))
        openAPIURL = String((options.string("open_api_url") ?? "").trimmingSuffix("/"))
        metadataURL = String((options.string("metadata_url") ?? "").trimmingSuffix("/"))
        guard datasetID.hasPrefix("d_"), datasetID.count > 2,
              datasetID.dropFirst(2).allSatisfy({ $0.isHexDigit }) else {
            throw OptionError(option: "dataset_id", "must be a data.gov.sg dataset id like d_0123…abcd")
        }
        for (option, url) in [("datastore_url", datastoreURL), ("open_api_url", openAPIURL), ("metadata_url", metadataURL)] {
            try HTTPOptions.checkURL(url, option: option)
        }
        if mode == .download, query != nil || !filters.isEmpty {
            throw OptionError(option: query != nil ? "q" : "filters", "applies to mode datastore only")
        }
    }

    /// data.gov.sg's published quotas per 10-second window (SOURCES.md B.4).
    var defaultRateLimit: HTTPSettings.RateLimit {
        switch mode {
        case .datastore: .init(requests: apiKey == nil ? 4 : 8, windowSeconds: 10)
        case .download: .init(requests: apiKey == nil ? 2 : 4, windowSeconds: 10)
        }
    }

    var headers: [(String, String)] { apiKey.map { [("x-api-key", $0)] } ?? [] }

    public func run(into writer: RecordWriter, context: SourceContext) async throws {
        try await HTTPFetcher.session(context, defaultRateLimit: defaultRateLimit, secrets: apiKey.map { [$0] } ?? []) { http in
            let (name, updated) = try await metadata(http)
            context.logger.info("data.gov.sg dataset \(datasetID): “\(name ?? "unnamed")”, last updated \(updated ?? "unknown")")
            if skipUnchanged, let updated, context.state == "lastUpdatedAt: " + updated {
                throw SourceUnchanged("\(datasetID) was last updated at \(updated), as when it was last published")
            }
            switch mode {
            case .datastore: try await searchDatastore(http, into: writer, context: context)
            case .download: try await download(http, into: writer, context: context)
            }
            if let updated { context.saveState("lastUpdatedAt: " + updated) }
        }
    }

    /// The dataset's name and `lastUpdatedAt` from the v2 metadata API.
    func metadata(_ http: HTTPFetcher) async throws -> (name: String?, updated: String?) {
        let url = metadataURL + "/v2/public/api/datasets/" + datasetID + "/metadata"
        return try await http.fetch(HTTPCall(url: url, headers: headers, label: "dataset metadata")) { reply in
            let data = try DataGovSG.successData(reply)
            return (data["name"]?.text, data["lastUpdatedAt"]?.text)
        }
    }

    /// `data` of a v1/v2 answer (`{code: 0, data, errorMsg}`), or the error it reports.
    static func successData(_ reply: HTTPReply) throws -> JSONValue {
        let document = try reply.envelope()
        let code = document["code"]?.integer
        let message = document["errorMsg"]?.text.flatMap { $0.isEmpty ? nil : $0 }
            ?? document["errMsg"]?.text.flatMap { $0.isEmpty ? nil : $0 }
        guard code == 0, let data = document["data"], data != .null else {
            throw SourceError("\(reply.origin): data.gov.sg answered code \(code.map(String.init) ?? "?")"
                              + (message.map { ": \($0)" } ?? "") + " (HTTP \(reply.status))")
        }
        try reply.requireSuccess()
        return data
    }

    func searchDatastore(_ http: HTTPFetcher, into writer: RecordWriter, context: SourceContext) async throws {
        var output = BatchingWriter(writer, batchSize: context.batchSize)
        var parameters = [("resource_id", datasetID), ("limit", String(pageSize))]
        if let query { parameters.append(("q", query)) }
        if !filters.isEmpty {
            parameters.append(("filters", "{" + filters.map { JSONText.quote($0.0) + ":" + JSONText.quote($0.1) }
                .joined(separator: ",") + "}"))
        }
        var url = URLText.with(datastoreURL + "/api/action/datastore_search", query: parameters)
        var tally = PageTally(noun: "records")
        var page = 1
        while tally.wantsMore(received: output.count) {
            let (records, pageTotal, next) = try await http.fetch(HTTPCall(url: url, headers: headers, label: "page \(page)")) { reply in
                let document = try reply.envelope()
                guard document["success"] == .bool(true), let result = document["result"] else {
                    let message = document["error"]?["message"]?.text ?? "no message"
                    throw SourceError("\(reply.origin): datastore_search failed: \(message) (HTTP \(reply.status))")
                }
                try reply.requireSuccess()
                guard let total = result["total"]?.integer else {
                    throw SourceError("\(reply.origin): the answer has no result.total", retryable: true)
                }
                return (result["records"]?.records ?? [], total, result["_links"]?["next"]?.text)
            }
            guard try tally.accept(total: pageTotal, rows: records.count, received: output.count,
                                   place: "page \(page)") else { break }
            for record in records { try await output.append(record) }
            guard let next else { break }
            url = URLText.resolve(next, against: datastoreURL + "/")
            page += 1
        }
        if let total = tally.total, output.count != total {
            throw SourceError("datastore_search announced \(total) records but \(output.count) arrived; nothing is "
                              + "published from an incomplete extraction")
        }
        try await output.finish()
        context.logger.info("data.gov.sg datastore: \(output.count) records in \(page) pages")
    }

    func download(_ http: HTTPFetcher, into writer: RecordWriter, context: SourceContext) async throws {
        let base = openAPIURL + "/v1/public/api/datasets/" + datasetID
        _ = try await http.fetch(HTTPCall(url: base + "/initiate-download", headers: headers, label: "initiate-download")) {
            try DataGovSG.successData($0)
        }
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(pollTimeout)
        var fileURL: String?
        while fileURL == nil {
            fileURL = try await http.fetch(HTTPCall(url: base + "/poll-download", headers: headers, label: "poll-download")) {
                try DataGovSG.successData($0)["url"]?.text
            }
            if fileURL != nil { break }
            guard clock.now < deadline else {
                throw SourceError("poll-download: the file was not ready after \(pollTimeout) s (poll_timeout)",
                                  retryable: true)
            }
            try await Task.sleep(for: .seconds(pollInterval))
        }
        let folder = context.scratchDirectory ?? "/tmp"
        let file = folder + "/" + datasetID + ".csv"
        defer { ScratchFile.remove(file) }
        // The presigned URL is a credential of its own until it expires: never shown.
        _ = try await http.download(HTTPCall(url: URLText.resolve(fileURL!, against: openAPIURL + "/"), label: "dataset file"),
                                    to: file)
        try await CSVReader.stream(file, into: writer, batchSize: context.batchSize)
    }
}
