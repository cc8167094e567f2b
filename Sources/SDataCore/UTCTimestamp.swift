/// UTC timestamps in the ISO 8601 form the store and the logs use — `2026-12-07T01:59:03Z`, or with milliseconds
/// `2026-12-07T01:59:03.370Z` — formatted and read by arithmetic on the civil calendar (proleptic Gregorian, the
/// algorithms of H. Hinnant's "chrono-compatible low-level date algorithms").
///
/// `ISO8601DateFormatter` gives the same text, but goes through ICU's calendar and time-zone data: creating one and
/// formatting a date was a tenth of a short run's time (`perf`, a 10-row run: 9 %), and the store and the log
/// handler made one per timestamp.
public enum UTCTimestamp {
    /// `seconds` since 1970-01-01T00:00:00Z, rounded to the nearest millisecond (halves up), then written field by
    /// field, with or without the milliseconds — as ICU, behind `ISO8601DateFormatter`, does.
    public static func format(_ seconds: Double, milliseconds: Bool) -> String {
        let totalMilliseconds = Int64((seconds * 1000 + 0.5).rounded(.down))
        let (wholeSeconds, millisecond) = floorDivide(totalMilliseconds, 1000)
        let (days, secondOfDay) = floorDivide(wholeSeconds, 86_400)
        let (year, month, day) = civil(days)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        if year < 0 { bytes.append(UInt8(ascii: "-")) }
        let magnitude = abs(year)
        if magnitude > 9999 { bytes.append(contentsOf: Array(String(magnitude).utf8)) } else { digits(magnitude, 4, &bytes) }
        bytes.append(UInt8(ascii: "-"))
        digits(month, 2, &bytes)
        bytes.append(UInt8(ascii: "-"))
        digits(day, 2, &bytes)
        bytes.append(UInt8(ascii: "T"))
        digits(Int(secondOfDay / 3600), 2, &bytes)
        bytes.append(UInt8(ascii: ":"))
        digits(Int(secondOfDay / 60 % 60), 2, &bytes)
        bytes.append(UInt8(ascii: ":"))
        digits(Int(secondOfDay % 60), 2, &bytes)
        if milliseconds {
            bytes.append(UInt8(ascii: "."))
            digits(Int(millisecond), 3, &bytes)
        }
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The seconds since 1970 of `YYYY-MM-DDTHH:MM:SSZ` or `YYYY-MM-DDTHH:MM:SS.fffZ` (one to nine fraction
    /// digits), or `nil` for any other text (callers fall back to a general ISO 8601 reader).
    public static func parse(_ text: String) -> Double? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.last == UInt8(ascii: "Z"), bytes[4] == UInt8(ascii: "-"),
              bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":"),
              bytes[16] == UInt8(ascii: ":") else { return nil }
        func number(_ from: Int, _ count: Int) -> Int? {
            var value = 0
            for index in from ..< from + count {
                let digit = bytes[index] &- 48
                guard digit < 10 else { return nil }
                value = value * 10 + Int(digit)
            }
            return value
        }
        guard let year = number(0, 4), let month = number(5, 2), (1...12).contains(month),
              let day = number(8, 2), day >= 1, day <= daysIn(month: month, year: year),
              let hour = number(11, 2), hour < 24, let minute = number(14, 2), minute < 60,
              let second = number(17, 2), second < 60 else { return nil }
        var fraction = 0.0
        if bytes.count > 20 {
            guard bytes[19] == UInt8(ascii: "."), bytes.count >= 22, bytes.count <= 30,
                  let digits = number(20, bytes.count - 21) else { return nil }
            var scale = 1.0
            for _ in 0 ..< bytes.count - 21 { scale *= 10 }
            fraction = Double(digits) / scale
        } else if bytes.count != 20 {
            return nil
        }
        let days = daysFromCivil(year, month, day)
        return Double(days * 86_400 + Int64(hour * 3600 + minute * 60 + second)) + fraction
    }

    private static func digits(_ value: Int, _ width: Int, _ bytes: inout [UInt8]) {
        var divisor = 1
        for _ in 1 ..< width { divisor *= 10 }
        while divisor > 0 {
            bytes.append(UInt8(48 + value / divisor % 10))
            divisor /= 10
        }
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let quotient = value >= 0 ? value / divisor : -((-value + divisor - 1) / divisor)
        return (quotient, value - quotient * divisor)
    }

    /// Year, month, day of `days` since 1970-01-01.
    private static func civil(_ days: Int64) -> (Int, Int, Int) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }

    /// Days since 1970-01-01 of a civil date.
    private static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int64 {
        let shiftedYear = Int64(month <= 2 ? year - 1 : year)
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let monthIndex = Int64(month > 2 ? month - 3 : month + 9)
        let dayOfYear = (153 * monthIndex + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
