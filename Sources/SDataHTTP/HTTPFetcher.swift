import AsyncHTTPClient
import Crypto
import Foundation
import Metrics
import NIOCore
import NIOHTTP1
import SDataCore
public import SDataPluginAPI
import Synchronization

/// The HTTP runtime every network plugin shares: timeouts, retries with exponential back-off and jitter on 5xx, 429,
/// 408 and network errors (honouring `Retry-After`), a per-source rate limit, conditional GET, and URLs shown only
/// with their secrets masked.
///
/// A plugin describes requests and interprets responses; it never loops on failures itself. An interpretation that
/// throws a retryable ``SourceError`` (an API's "server busy" code inside an HTTP 200, a page cut short) is retried
/// like an HTTP 503.
public final class HTTPFetcher: Sendable {
    private let client: HTTPClient
    private let settings: HTTPSettings
    private let limiter: RateLimiter?
    public let redaction: URLRedaction
    private let logger: SourceLogger
    private let counters = Mutex(Statistics())
    private let onRequest: @Sendable () -> Void
    private let requestCounter: Counter
    private let retryCounter: Counter

    /// Requests made, retries slept through and body bytes received, for the run log (and metrics).
    public struct Statistics: Sendable, Equatable {
        public var requests = 0
        public var retries = 0
        public var bytes = 0
    }

    public var statistics: Statistics { counters.withLock { $0 } }

    /// - Parameters:
    ///   - defaultRateLimit: the plugin's own limit for its API (data.gov.sg's quotas), used unless the spec sets one.
    ///   - secrets: values to mask wherever a URL is shown (keys in paths or queries).
    public init(settings: HTTPSettings, defaultRateLimit: HTTPSettings.RateLimit? = nil, secrets: [String] = [],
                logger: SourceLogger, pipeline: String = "", onRequest: @escaping @Sendable () -> Void = {}) {
        self.settings = settings
        self.onRequest = onRequest
        requestCounter = Counter(label: "sdata_http_requests_total", dimensions: [("pipeline", pipeline)])
        retryCounter = Counter(label: "sdata_http_retries_total", dimensions: [("pipeline", pipeline)])
        let limit = settings.rateLimit ?? defaultRateLimit
        limiter = limit.map { RateLimiter(requests: $0.requests, windowSeconds: $0.windowSeconds) }
        redaction = URLRedaction(secrets: secrets)
        self.logger = logger
        let idle = TimeAmount.milliseconds(Int64(settings.timeoutSeconds * 1000))
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .follow(max: 5, allowCycles: false),
            timeout: .init(connect: .seconds(min(30, Int64(settings.timeoutSeconds.rounded(.up)))), read: idle))
        configuration.httpVersion = .http1Only
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Creates a fetcher for one run of a source, hands it to `body`, logs its statistics and shuts it down.
    public static func session<T: Sendable>(
        _ context: SourceContext, defaultRateLimit: HTTPSettings.RateLimit? = nil, secrets: [String] = [],
        _ body: (HTTPFetcher) async throws -> T
    ) async throws -> T {
        let fetcher = HTTPFetcher(settings: context.http, defaultRateLimit: defaultRateLimit, secrets: secrets,
                                  logger: context.logger, pipeline: context.pipeline, onRequest: context.onRequest)
        do {
            let result = try await body(fetcher)
            await fetcher.finish()
            return result
        } catch {
            await fetcher.finish()
            throw error
        }
    }

    private func finish() async {
        let stats = statistics
        logger.info("http: \(stats.requests) requests, \(stats.retries) retries, \(stats.bytes) bytes received")
        try? await client.shutdown()
    }

    /// The URL as it may be shown.
    public func shown(_ url: String) -> String { redaction.redact(url) }

    // MARK: - Requests

    /// Makes `call`, retrying as the settings say, and returns what `interpret` makes of the response.
    ///
    /// `interpret` sees every response except those the runtime retries (429, 408, 5xx) and, when `validators` are
    /// given, a 304 (which throws ``SourceUnchanged``). It should call ``HTTPReply/requireSuccess()`` unless the API
    /// puts meaningful error envelopes in 4xx bodies.
    public func fetch<T>(_ call: HTTPCall, maxBytes: Int = 256 << 20, validators: Validators? = nil,
                         interpret: (HTTPReply) throws -> T) async throws -> T {
        try await withRetries(call) {
            let reply = try await self.attempt(call, validators: validators, maxBytes: maxBytes, file: nil)
            if let failure = self.retryableStatus(reply) { return .retry(failure, after: reply.header("Retry-After")) }
            if reply.status == 304, validators != nil {
                throw SourceUnchanged("\(reply.origin): not modified since the last published version (HTTP 304)")
            }
            do {
                return .done(try interpret(reply))
            } catch let error as SourceError where error.isRetryable {
                return .retry(error.message, after: nil)
            }
        }
    }

    /// Streams the body of `call` into the file at `path` (created or truncated on every attempt), so a large
    /// document costs disk, not memory. Returns the response with an empty body. Non-2xx answers throw.
    public func download(_ call: HTTPCall, to path: String, validators: Validators? = nil) async throws -> HTTPReply {
        try await withRetries(call) {
            let reply = try await self.attempt(call, validators: validators, maxBytes: 1 << 20, file: path)
            if let failure = self.retryableStatus(reply) { return .retry(failure, after: reply.header("Retry-After")) }
            if reply.status == 304, validators != nil {
                throw SourceUnchanged("\(reply.origin): not modified since the last published version (HTTP 304)")
            }
            try reply.requireSuccess()
            return .done(reply)
        }
    }

    private enum Step<T> {
        case done(T)
        case retry(String, after: String?)
    }

    private func retryableStatus(_ reply: HTTPReply) -> String? {
        guard reply.status == 429 || reply.status == 408 || (500..<600).contains(reply.status) else { return nil }
        return "HTTP \(reply.status)\(HTTPReply.reason(reply.status).map { " \($0)" } ?? "")"
    }

    private func withRetries<T>(_ call: HTTPCall, _ body: () async throws -> Step<T>) async throws -> T {
        var failures = 0
        while true {
            try Task.checkCancellation()
            let reason: String
            var retryAfter: String?
            do {
                switch try await body() {
                case .done(let value): return value
                case .retry(let why, let after):
                    reason = why
                    retryAfter = after
                }
            } catch let error as SourceError {
                throw error
            } catch let error as SourceUnchanged {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch let error as TimedOut {
                reason = error.description
            } catch let error as NIOTooManyBytesError {
                throw SourceError("\(call.label) (\(shown(call.url))): the response is larger than \(error.maxBytes.map { "\($0)" } ?? "the limit") bytes")
            } catch {
                if Task.isCancelled { throw CancellationError() }
                reason = "network error: \(redaction.redact(HTTPFetcher.describe(error)))"
            }
            failures += 1
            let place = "\(call.label) (\(shown(call.url)))"
            guard failures <= settings.retries else {
                throw SourceError("\(place): \(reason); gave up after \(failures) attempts", retryable: true)
            }
            var delay = Backoff.delay(attempt: failures, base: settings.backoffSeconds, cap: settings.maxBackoffSeconds)
            if let asked = Backoff.retryAfter(retryAfter, now: Date().timeIntervalSince1970) {
                guard asked <= settings.maxRetryAfterSeconds else {
                    throw SourceError("\(place): \(reason) and the server asks to wait \(Int(asked)) s (Retry-After), "
                                      + "more than source.http.max_retry_after (\(Int(settings.maxRetryAfterSeconds)) s)",
                                      retryable: true)
                }
                delay = asked
            }
            counters.withLock { $0.retries += 1 }
            retryCounter.increment()
            logger.warning("\(place): \(reason); retry \(failures) of \(settings.retries) in "
                           + "\(DecimalFormat.fixed(delay, scale: 1)) s")
            try await Task.sleep(for: .milliseconds(Int64(delay * 1000)))
        }
    }

    /// One request; the body goes to memory (up to `maxBytes`) or, for a 2xx with `file` set, to that file.
    private func attempt(_ call: HTTPCall, validators: Validators?, maxBytes: Int, file: String?) async throws -> HTTPReply {
        if let limiter { try await limiter.acquire() }
        var request = HTTPClientRequest(url: call.url)
        request.method = HTTPMethod(rawValue: call.method.rawValue)
        request.headers.add(name: "User-Agent", value: HTTPFetcher.userAgent)
        for (name, value) in call.headers { request.headers.add(name: name, value: value) }
        if let etag = validators?.etag { request.headers.add(name: "If-None-Match", value: etag) }
        if let modified = validators?.lastModified { request.headers.add(name: "If-Modified-Since", value: modified) }
        if let body = call.body {
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        counters.withLock { $0.requests += 1 }
        requestCounter.increment()
        onRequest()
        let started = ContinuousClock.now
        let client = self.client
        let limit = file == nil ? settings.timeoutSeconds : nil
        let prepared = request
        let reply = try await HTTPFetcher.withDeadline(seconds: limit) { () async throws -> HTTPReply in
            let response = try await client.execute(prepared, deadline: .distantFuture)
            let headers = response.headers.map { ($0.name, $0.value) }
            let status = Int(response.status.code)
            var bytes: [UInt8] = []
            if let file, (200..<300).contains(status) {
                let sink = try FileSink(path: file, exclusive: false, mode: 0o600)
                var received = 0
                for try await chunk in response.body {
                    try sink.write(chunk.readableBytesView)
                    received += chunk.readableBytes
                }
                try sink.flush()
                self.counters.withLock { $0.bytes += received }
            } else {
                let buffer = try await response.body.collect(upTo: maxBytes)
                bytes = Array(buffer.readableBytesView)
                self.counters.withLock { $0.bytes += bytes.count }
            }
            return HTTPReply(status: status, headers: headers, body: bytes, shownURL: self.shown(call.url),
                             label: call.label)
        }
        let elapsed = ContinuousClock.now - started
        logger.debug("\(call.method.rawValue) \(reply.shownURL) → \(reply.status) (\(reply.body.count) bytes, "
                     + "\(elapsed.formatted(.units(allowed: [.seconds, .milliseconds], width: .narrow))))")
        return reply
    }

    static let userAgent = "sdata/0.1 (+https://github.com/sdata-project/sdata)"

    /// Runs `body`, failing with ``TimedOut`` after `seconds` (none when `nil`); cancelling the request with it.
    static func withDeadline<T: Sendable>(seconds: Double?, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        guard let seconds else { return try await body() }
        return try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
                throw TimedOut(seconds: seconds)
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    /// A network error in words, without the noise of type names.
    static func describe(_ error: any Error) -> String {
        if let client = error as? HTTPClientError {
            switch client {
            case .remoteConnectionClosed: return "the server closed the connection before the response was complete"
            case .connectTimeout: return "connecting timed out"
            case .readTimeout: return "no data received for too long (read timeout)"
            case .deadlineExceeded: return "the request took too long"
            default: return "\(client)"
            }
        }
        let text = String(describing: error)
        if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
        if text.contains("invalidEOFState") { return "the response ended early (truncated body)" }
        return text
    }
}

/// A request that ran past `source.http.timeout`.
struct TimedOut: Error, CustomStringConvertible {
    let seconds: Double
    var description: String { "no complete response within \(DecimalFormat.fixed(seconds, scale: 1)) s (timeout)" }
}

/// ETag and Last-Modified of a document, kept as source state so the next run can ask "changed since?".
public struct Validators: Sendable, Equatable {
    public var etag: String?
    public var lastModified: String?

    public init(etag: String? = nil, lastModified: String? = nil) {
        self.etag = etag
        self.lastModified = lastModified
    }

    /// Validators for `url` from a state saved by ``state(for:)``; `nil` when none were saved for that URL (a changed
    /// URL must not be answered from another URL's validators).
    public init?(state: String?, url: String) {
        guard let state else { return nil }
        var etag: String?
        var modified: String?
        var matches = false
        for line in state.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = String(line[line.index(after: colon)...]).trimmingWhitespace()
            switch line[..<colon] {
            case "URL-SHA256": matches = value == Validators.fingerprint(url)
            case "ETag": etag = value
            case "Last-Modified": modified = value
            default: break
            }
        }
        guard matches, etag != nil || modified != nil else { return nil }
        self.init(etag: etag, lastModified: modified)
    }

    /// The validators a response carries, or `nil` when it has none.
    public init?(reply: HTTPReply) {
        let etag = reply.header("ETag")
        let modified = reply.header("Last-Modified")
        guard etag != nil || modified != nil else { return nil }
        self.init(etag: etag, lastModified: modified)
    }

    /// A state text for `url`: header-like lines; the URL only as a digest, since it may hold a key.
    public func state(for url: String) -> String {
        var lines = ["URL-SHA256: \(Validators.fingerprint(url))"]
        if let etag { lines.append("ETag: \(etag)") }
        if let lastModified { lines.append("Last-Modified: \(lastModified)") }
        return lines.joined(separator: "\n")
    }

    static func fingerprint(_ url: String) -> String {
        Hex.string(SHA256.hash(data: Array(url.utf8)))
    }
}
