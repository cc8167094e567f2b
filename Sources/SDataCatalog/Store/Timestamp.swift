public import Foundation
import SDataCore

/// UTC timestamps as ISO 8601 text with milliseconds: sortable as strings, readable in the database.
public enum Timestamp {
    public static func string(_ date: Date) -> String {
        UTCTimestamp.format(date.timeIntervalSince1970, milliseconds: true)
    }

    public static func date(_ text: String) -> Date {
        if let seconds = UTCTimestamp.parse(text) { return Date(timeIntervalSince1970: seconds) }
        return formatter().date(from: text) ?? ISO8601DateFormatter().date(from: text) ?? Date(timeIntervalSince1970: 0)
    }

    private static func formatter() -> ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}

