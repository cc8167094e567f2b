import Foundation

/// Writing to the terminal.
enum Output {
    static func line(_ text: String) {
        print(text)
    }

    static func error(_ text: String) {
        Terminal.clearProgress()
        FileHandle.standardError.write(Data(("error: " + text + "\n").utf8))
    }

    static func json(_ value: some Encodable) throws {
        print(String(decoding: try JSONEncoder.sdata.encode(value), as: UTF8.self))
    }

    /// A byte count for people: `12.3 kB`.
    static func size(_ bytes: Int) -> String {
        if bytes < 1000 { return "\(bytes) B" }
        let units = ["kB", "MB", "GB", "TB"]
        var value = Double(bytes) / 1000
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return String(format: "%.1f %@", value, units[unit])
    }
}

/// The terminal: whether it is one, and the one-line progress display.
enum Terminal {
    static let isInteractive = isatty(STDERR_FILENO) == 1
    nonisolated(unsafe) private static var progressShown = false
    private static let lock = NSLock()

    /// Replaces the progress line (standard error, terminals only).
    static func progress(_ text: String) {
        guard isInteractive else { return }
        lock.lock()
        defer { lock.unlock() }
        FileHandle.standardError.write(Data(("\r\u{1B}[2K" + text).utf8))
        progressShown = true
    }

    static func clearProgress() {
        guard isInteractive else { return }
        lock.lock()
        defer { lock.unlock() }
        if progressShown { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
        progressShown = false
    }
}

extension JSONEncoder {
    /// How `sdata` writes JSON: sorted keys, ISO 8601 dates.
    static var sdata: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}
