import Foundation
import Logging
import SDataCore

/// Log lines on standard error, logfmt (`time=… level=info msg="run started" pipeline=x`) or one JSON object per
/// line, with every known secret scrubbed from the line.
struct LogfmtHandler: LogHandler {
    let label: String
    let redactor: SecretRedactor
    let json: Bool
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    init(label: String, redactor: SecretRedactor, json: Bool = false) {
        self.label = label
        self.redactor = redactor
        self.json = json
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields = [("time", UTCTimestamp.format(Date().timeIntervalSince1970, milliseconds: false)), ("level", event.level.rawValue),
                      ("msg", "\(event.message)")]
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for key in merged.keys.sorted() { fields.append((key, "\(merged[key]!)")) }
        let line = json
            ? "{" + fields.map { key, value in JSONText.quote(key) + ":" + JSONText.quote(value) }.joined(separator: ",") + "}"
            : Logfmt.line(fields)
        Terminal.clearProgress()
        FileHandle.standardError.write(Data((redactor.redact(line) + "\n").utf8))
    }
}
