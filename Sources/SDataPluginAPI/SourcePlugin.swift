import Synchronization
/// A source of records: a city API, a feed, a file, an external tap.
///
/// Implementations must:
/// - describe every option in ``descriptor`` (the spec is checked against it before the plugin is created);
/// - validate eagerly in ``init(options:)``: anything that can be known without I/O (paths, patterns, combinations of
///   options) throws an ``OptionError`` there, not half-way through a run;
/// - in ``run(into:context:)``, produce batches through the writer and suspend while it is full (back-pressure);
///   stop promptly when the task is cancelled; throw ``SourceError`` with a message that never contains a record
///   value or a secret.
/// A plugin is a value: it holds configuration, never mutable run state.
public protocol SourcePlugin: Sendable {
    static var descriptor: PluginDescriptor { get }

    init(options: PluginOptions) throws

    func run(into writer: RecordWriter, context: SourceContext) async throws
}

/// What a running source may use: a logger, the place relative paths start from, the saved bookmark and state, the
/// HTTP policy the spec declared, a private scratch folder.
public struct SourceContext: Sendable {
    /// The directory that relative paths in the spec are resolved against (the spec's folder).
    public var baseDirectory: String
    /// Records per batch the runner prefers.
    public var batchSize: Int
    /// The incremental cursor's value saved after the last published version (`source.incremental.cursor`).
    public var bookmark: String?
    /// What the plugin saved with ``saveState(_:)`` during the last run whose version was published (a Singer tap's
    /// STATE, HTTP validators for conditional GET). Opaque to the runner.
    public var state: String?
    /// Timeouts, retries and rate limit for HTTP sources (`source.http` in the spec).
    public var http: HTTPSettings
    /// A folder only this run uses (mode 0700), removed when the run ends: for downloads that are parsed from disk
    /// so that memory stays flat. `nil` outside a run; plugins then use the system's temporary folder.
    public var scratchDirectory: String?
    public var logger: SourceLogger
    /// The pipeline being run, for metrics labels ("" outside a run).
    public var pipeline: String
    /// Called once per request a network source makes, for progress displays and metrics.
    public var onRequest: @Sendable () -> Void
    private let stateBox = StateBox()

    public init(baseDirectory: String, batchSize: Int = 4096, bookmark: String? = nil, state: String? = nil,
                http: HTTPSettings = HTTPSettings(), scratchDirectory: String? = nil,
                logger: SourceLogger = SourceLogger { _, _ in }, pipeline: String = "",
                onRequest: @escaping @Sendable () -> Void = {}) {
        self.baseDirectory = baseDirectory
        self.batchSize = batchSize
        self.bookmark = bookmark
        self.state = state
        self.http = http
        self.scratchDirectory = scratchDirectory
        self.logger = logger
        self.pipeline = pipeline
        self.onRequest = onRequest
    }

    /// `path` made absolute against ``baseDirectory``.
    public func resolve(path: String) -> String {
        if path.hasPrefix("/") { return path }
        return baseDirectory.hasSuffix("/") ? baseDirectory + path : baseDirectory + "/" + path
    }

    /// Records the state to hand to the next run. The runner stores it only after the version this run feeds is
    /// published: a failed run leaves the previous state in place, so nothing is skipped.
    public func saveState(_ state: String) {
        stateBox.value.withLock { $0 = state }
    }

    /// The state saved by ``saveState(_:)`` during this run, if any.
    public var savedState: String? { stateBox.value.withLock { $0 } }
}

private final class StateBox: Sendable {
    let value = Mutex<String?>(nil)
}

/// How HTTP sources behave on the network; declared per source in the spec (`source.http`), shared by every plugin
/// through the HTTP runtime rather than re-implemented in each.
public struct HTTPSettings: Sendable, Equatable {
    /// Seconds one request may take, from connecting to the last body byte.
    public var timeoutSeconds: Double
    /// Attempts after the first on a 5xx, a 429, a network error or a retryable API error code.
    public var retries: Int
    /// The first back-off delay; doubled on every attempt (full jitter), capped at ``maxBackoffSeconds``.
    public var backoffSeconds: Double
    public var maxBackoffSeconds: Double
    /// A `Retry-After` longer than this fails the run instead of sleeping through the night.
    public var maxRetryAfterSeconds: Double
    /// At most `requests` requests per `windowSeconds`; `nil` leaves the plugin's own default (if any).
    public var rateLimit: RateLimit?

    public struct RateLimit: Sendable, Equatable, CustomStringConvertible {
        public var requests: Int
        public var windowSeconds: Double

        public init(requests: Int, windowSeconds: Double) {
            self.requests = requests
            self.windowSeconds = windowSeconds
        }

        public var description: String { "\(requests) per \(windowSeconds) s" }
    }

    public init(timeoutSeconds: Double = 60, retries: Int = 4, backoffSeconds: Double = 1, maxBackoffSeconds: Double = 60,
                maxRetryAfterSeconds: Double = 600, rateLimit: RateLimit? = nil) {
        self.timeoutSeconds = timeoutSeconds
        self.retries = retries
        self.backoffSeconds = backoffSeconds
        self.maxBackoffSeconds = maxBackoffSeconds
        self.maxRetryAfterSeconds = maxRetryAfterSeconds
        self.rateLimit = rateLimit
    }
}

/// Thrown by a source whose data has not changed since the last published version (an HTTP 304 on a conditional
/// GET): the run ends as `unchanged` without staging or publishing anything.
public struct SourceUnchanged: Error, Sendable, CustomStringConvertible {
    public let reason: String

    public init(_ reason: String) { self.reason = reason }

    public var description: String { reason }
}

/// A logging hook the runner injects; messages pass through the secret redactor before they are written.
public struct SourceLogger: Sendable {
    public enum Level: String, Sendable { case debug, info, warning }
    private let sink: @Sendable (Level, String) -> Void

    public init(_ sink: @escaping @Sendable (Level, String) -> Void) { self.sink = sink }

    public func debug(_ message: String) { sink(.debug, message) }
    public func info(_ message: String) { sink(.info, message) }
    public func warning(_ message: String) { sink(.warning, message) }
}

/// A failure while extracting. The message says what and where (file, line, page), never a value.
public struct SourceError: Error, Sendable, CustomStringConvertible {
    public let message: String
    /// True when trying again may succeed (HTTP 5xx, 429, a dropped connection).
    public let isRetryable: Bool

    public init(_ message: String, retryable: Bool = false) {
        self.message = message
        self.isRetryable = retryable
    }

    public var description: String { message }
}

/// A delimited text file that a source would read as it is, field for field: the runner may read it itself, in
/// chunks on every core, with the columnar engine (see docs/performance.md), instead of asking for record batches.
public struct DelimitedFile: Sendable, Equatable {
    public let path: String
    public let delimiter: UInt8
    public let quote: UInt8
    /// Whether the first record names the fields (otherwise they are `column_1`, `column_2`, …).
    public let header: Bool

    public init(path: String, delimiter: UInt8, quote: UInt8, header: Bool) {
        self.path = path
        self.delimiter = delimiter
        self.quote = quote
        self.header = header
    }
}

/// A source that can hand the runner its file instead of its records. The records the runner reads from the file must
/// be exactly those ``SourcePlugin/run(into:context:)`` would write (every field text, empty fields null).
public protocol DelimitedFileSource: SourcePlugin {
    /// The file, or `nil` when this configuration does not read one delimited file as it is.
    func delimitedFile(context: SourceContext) -> DelimitedFile?
}
