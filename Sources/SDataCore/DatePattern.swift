/// A date/time layout such as `yyyy-MM-dd HH:mm:ss` or `yyyy.MM.dd.HH`, in the Unicode (LDML) letters stewards know
/// from spreadsheets: `yyyy` year, `MM` month, `dd` day, `HH` hour, `mm` minute, `ss` second, `S…` fraction,
/// `XXX` offset (`+09:00` or `Z`), `'…'` literal text. Any other character must appear as is.
///
/// Hand-written rather than `DateFormatter`: parsing must be exact, locale-free and fast on millions of rows, and it
/// must keep the source's UTC offset instead of converting to an absolute instant.
public struct DatePattern: Sendable, Hashable, CustomStringConvertible {
    enum Token: Sendable, Hashable {
        case year, month, day, hour, minute, second, fraction, offset
        case literal(UInt8)
    }

    let tokens: [Token]
    public let description: String

    /// Parses a layout; throws a message naming the bad letter.
    public init(_ pattern: String) throws(PatternError) {
        description = pattern
        var tokens: [Token] = []
        let bytes = Array(pattern.utf8)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            var run = 1
            while index + run < bytes.count, bytes[index + run] == byte { run += 1 }
            switch (byte, run) {
            case (UInt8(ascii: "y"), 4): tokens.append(.year)
            case (UInt8(ascii: "M"), 2): tokens.append(.month)
            case (UInt8(ascii: "d"), 2): tokens.append(.day)
            case (UInt8(ascii: "H"), 2): tokens.append(.hour)
            case (UInt8(ascii: "m"), 2): tokens.append(.minute)
            case (UInt8(ascii: "s"), 2): tokens.append(.second)
            case (UInt8(ascii: "S"), _): tokens.append(.fraction)
            case (UInt8(ascii: "X"), 3), (UInt8(ascii: "X"), 1): tokens.append(.offset)
            case (UInt8(ascii: "'"), _):
                var end = index + 1
                while end < bytes.count, bytes[end] != UInt8(ascii: "'") { end += 1 }
                guard end < bytes.count else { throw PatternError("unterminated quote in date format '\(pattern)'") }
                tokens += bytes[(index + 1)..<end].map(Token.literal)
                index = end + 1
                continue
            case (let letter, _) where (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(letter)
                || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(letter):
                let text = String(repeating: Character(Unicode.Scalar(letter)), count: run)
                throw PatternError(
                    "unsupported date format letters '\(text)' in '\(pattern)' (use yyyy, MM, dd, HH, mm, ss, S, XXX)")
            default:
                tokens += Array(repeating: .literal(byte), count: run)
            }
            index += run
        }
        self.tokens = tokens
    }

    public var hasTime: Bool {
        tokens.contains { $0 == .hour || $0 == .minute || $0 == .second }
    }

    /// Parses `text`; `nil` when it does not follow the layout or names a day that does not exist.
    public func parse(_ text: String) -> DateTime? {
        var scanner = ByteScanner(text)
        var year = 1, month = 1, day = 1, hour = 0, minute = 0, second = 0, nanos = 0
        var offset: Int?
        for token in tokens {
            switch token {
            case .year: guard let value = scanner.digits(4) else { return nil }; year = value
            case .month: guard let value = scanner.digits(2) else { return nil }; month = value
            case .day: guard let value = scanner.digits(2) else { return nil }; day = value
            case .hour: guard let value = scanner.digits(2) else { return nil }; hour = value
            case .minute: guard let value = scanner.digits(2) else { return nil }; minute = value
            case .second: guard let value = scanner.digits(2) else { return nil }; second = value
            case .fraction: guard let value = scanner.fraction() else { return nil }; nanos = value
            case .offset: guard let value = scanner.offset() else { return nil }; offset = value
            case .literal(let byte): guard scanner.take(byte) else { return nil }
            }
        }
        guard scanner.atEnd, let date = LocalDate(year: year, month: month, day: day) else { return nil }
        return DateTime(date: date, hour: hour, minute: minute, second: second, nanosecond: nanos,
                        offsetSeconds: offset)
    }

    /// ISO 8601 / RFC 3339 datetime: `2020-11-03T14:25:07+09:00`, a space instead of `T`, optional fraction, optional
    /// offset (`Z`, `+09:00`, `+0900`).
    public static func parseISODateTime(_ text: String) -> DateTime? {
        var scanner = ByteScanner(text)
        guard let year = scanner.digits(4), scanner.take(UInt8(ascii: "-")),
              let month = scanner.digits(2), scanner.take(UInt8(ascii: "-")),
              let day = scanner.digits(2),
              scanner.take(UInt8(ascii: "T")) || scanner.take(UInt8(ascii: " ")),
              let hour = scanner.digits(2), scanner.take(UInt8(ascii: ":")),
              let minute = scanner.digits(2) else { return nil }
        var second = 0, nanos = 0
        if scanner.take(UInt8(ascii: ":")) {
            guard let value = scanner.digits(2) else { return nil }
            second = value
            if scanner.take(UInt8(ascii: ".")) {
                guard let fraction = scanner.fraction() else { return nil }
                nanos = fraction
            }
        }
        var offset: Int?
        if !scanner.atEnd {
            guard let value = scanner.offset(), scanner.atEnd else { return nil }
            offset = value
        }
        guard let date = LocalDate(year: year, month: month, day: day) else { return nil }
        return DateTime(date: date, hour: hour, minute: minute, second: second, nanosecond: nanos,
                        offsetSeconds: offset)
    }

    /// ISO 8601 calendar date: `2021-09-14`.
    public static func parseISODate(_ text: String) -> LocalDate? {
        var scanner = ByteScanner(text)
        guard let year = scanner.digits(4), scanner.take(UInt8(ascii: "-")),
              let month = scanner.digits(2), scanner.take(UInt8(ascii: "-")),
              let day = scanner.digits(2), scanner.atEnd else { return nil }
        return LocalDate(year: year, month: month, day: day)
    }
}

/// A message explaining why a date layout is not usable.
public struct PatternError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Reads ASCII fields from UTF-8 text.
struct ByteScanner {
    private let bytes: [UInt8]
    private var position = 0

    init(_ text: String) { bytes = Array(text.utf8) }

    var atEnd: Bool { position == bytes.count }

    mutating func take(_ byte: UInt8) -> Bool {
        guard position < bytes.count, bytes[position] == byte else { return false }
        position += 1
        return true
    }

    mutating func digits(_ count: Int) -> Int? {
        guard position + count <= bytes.count else { return nil }
        var value = 0
        for byte in bytes[position..<(position + count)] {
            guard (48...57).contains(byte) else { return nil }
            value = value * 10 + Int(byte - 48)
        }
        position += count
        return value
    }

    mutating func fraction() -> Int? {
        var nanos = 0, count = 0
        while position < bytes.count, (48...57).contains(bytes[position]) {
            if count < 9 { nanos = nanos * 10 + Int(bytes[position] - 48) }
            count += 1
            position += 1
        }
        guard count > 0 else { return nil }
        for _ in count..<max(count, 9) { nanos *= 10 }
        return nanos
    }

    mutating func offset() -> Int? {
        if take(UInt8(ascii: "Z")) { return 0 }
        let sign: Int
        if take(UInt8(ascii: "+")) { sign = 1 } else if take(UInt8(ascii: "-")) { sign = -1 } else { return nil }
        guard let hours = digits(2) else { return nil }
        _ = take(UInt8(ascii: ":"))
        guard let minutes = digits(2), hours <= 18, minutes < 60 else { return nil }
        return sign * (hours * 3600 + minutes * 60)
    }
}
