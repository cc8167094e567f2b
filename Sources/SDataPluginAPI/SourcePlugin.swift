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

/// What a running source may use: a logger, the place relative paths start from, the saved bookmark.
public struct SourceContext: Sendable {
    /// The directory that relative paths in the spec are resolved against (the spec's folder).
    public var baseDirectory: String
    /// Records per batch the runner prefers.
    public var batchSize: Int
    /// The bookmark saved after the last published version, for incremental sources.
    public var bookmark: String?
    public var logger: SourceLogger

    public init(baseDirectory: String, batchSize: Int = 4096, bookmark: String? = nil,
                logger: SourceLogger = SourceLogger { _, _ in }) {
        self.baseDirectory = baseDirectory
        self.batchSize = batchSize
        self.bookmark = bookmark
        self.logger = logger
    }

    /// `path` made absolute against ``baseDirectory``.
    public func resolve(path: String) -> String {
        if path.hasPrefix("/") { return path }
        return baseDirectory.hasSuffix("/") ? baseDirectory + path : baseDirectory + "/" + path
    }
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
