import AsyncHTTPClient
public import Foundation
public import Logging
import NIOCore
import NIOHTTP1
public import SDataCatalog

/// An alert as operators receive it: a JSON object POSTed to the configured webhook.
public struct Alert: Sendable, Codable, Equatable {
    public enum Event: String, Sendable, Codable {
        /// A run failed (after its retries).
        case runFailed = "run_failed"
        /// A pipeline has had no successful run for longer than its `max_staleness`.
        case stale
    }

    public var event: Event
    public var pipeline: String
    public var catalog: String
    public var message: String
    public var runId: String?
    public var at: Date
    public var lastSuccess: Date?

    public init(event: Event, pipeline: String, catalog: String, message: String, runId: String? = nil,
                at: Date = Date(), lastSuccess: Date? = nil) {
        self.event = event
        self.pipeline = pipeline
        self.catalog = catalog
        self.message = message
        self.runId = runId
        self.at = at
        self.lastSuccess = lastSuccess
    }

    enum CodingKeys: String, CodingKey {
        case event, pipeline, catalog, message, at
        case runId = "run_id"
        case lastSuccess = "last_success"
    }
}

/// Delivers alerts to a webhook: one JSON POST each, a 10-second timeout, two more tries on failure. A failed
/// delivery is logged, never fatal to the run.
public struct WebhookNotifier: Sendable {
    public let url: URL
    public let logger: Logger

    public init(url: URL, logger: Logger) {
        self.url = url
        self.logger = logger
    }

    /// The notifier for a catalog: `SDATA_ALERT_WEBHOOK`, else `alerts.webhook_url` in `catalog.yaml`.
    public static func configured(for catalog: Catalog, environment: [String: String], logger: Logger) -> WebhookNotifier? {
        guard let text = environment["SDATA_ALERT_WEBHOOK"] ?? catalog.config.alerts?.webhookURL,
              let url = URL(string: text), url.scheme == "http" || url.scheme == "https" else { return nil }
        return WebhookNotifier(url: url, logger: logger)
    }

    public func send(_ alert: Alert) async {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.string(date))
        }
        guard let body = try? encoder.encode(alert) else { return }
        // AsyncHTTPClient, the HTTP stack the source plugins use: `URLSession` would link FoundationNetworking
        // and with it libcurl and its two dozen libraries, loaded by every `sdata` start for one POST.
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "sdata")
        request.body = .bytes(ByteBuffer(bytes: body))
        for attempt in 1...3 {
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                _ = try? await response.body.collect(upTo: 1 << 16)
                if (200..<300).contains(response.status.code) { return }
                logger.warning("alert webhook refused the alert",
                               metadata: ["attempt": "\(attempt)", "status": "\(response.status.code)"])
            } catch {
                logger.warning("alert webhook unreachable", metadata: ["attempt": "\(attempt)"])
            }
            try? await Task.sleep(for: .milliseconds(500 * attempt))
        }
        logger.error("alert not delivered", metadata: ["event": "\(alert.event.rawValue)", "pipeline": "\(alert.pipeline)"])
    }
}
