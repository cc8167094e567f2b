import Foundation
import Logging
import SDataCore
import SDataCatalog

/// Sends every log event of a run both to the process's logger and, as logfmt lines, to the run's own log file in the
/// catalog (`logs/<run>.log`), so that an operator can read one run's story later. Lines are scrubbed of secrets.
struct RunLogHandler: LogHandler {
    let base: Logger
    let file: RunLogFile
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level

    init(base: Logger, file: RunLogFile) {
        self.base = base
        self.file = file
        logLevel = min(base.logLevel, .info)
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        if event.level >= base.logLevel {
            base.log(level: event.level, event.message, metadata: merged, source: event.source, file: event.file,
                     function: event.function, line: event.line)
        }
        var fields = [("time", Timestamp.string(Date())), ("level", event.level.rawValue), ("msg", "\(event.message)")]
        for key in merged.keys.sorted() { fields.append((key, "\(merged[key]!)")) }
        file.append(Logfmt.line(fields))
    }
}

/// A run's log file: appended line by line, secrets scrubbed; failures to write are ignored (logging never fails a run).
final class RunLogFile: @unchecked Sendable {
    private let handle: FileHandle?
    private let redactor: SecretRedactor
    private let lock = NSLock()
    let path: String

    init(path: String, redactor: SecretRedactor) {
        self.path = path
        self.redactor = redactor
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                 withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o640])
        handle = FileHandle(forWritingAtPath: path)
    }

    deinit { try? handle?.close() }

    func append(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        try? handle?.write(contentsOf: Data((redactor.redact(line) + "\n").utf8))
    }
}
