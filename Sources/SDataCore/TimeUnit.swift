/// A calendar unit that dates and datetimes can be truncated to.
public enum TimeUnit: String, Sendable, CaseIterable {
    case year, month, day, hour, minute, second

    /// Truncates `value` to the start of its unit, keeping its offset.
    public func truncate(_ value: DateTime) -> DateTime {
        var result = value
        result.nanosecond = 0
        switch self {
        case .second:
            break
        case .minute:
            result.second = 0
        case .hour:
            result.second = 0; result.minute = 0
        case .day:
            result.second = 0; result.minute = 0; result.hour = 0
        case .month:
            result.second = 0; result.minute = 0; result.hour = 0; result.date.day = 1
        case .year:
            result.second = 0; result.minute = 0; result.hour = 0; result.date.day = 1; result.date.month = 1
        }
        return result
    }

    /// Truncates a date; units finer than a day leave it unchanged.
    public func truncate(_ value: LocalDate) -> LocalDate {
        var result = value
        switch self {
        case .year: result.month = 1; result.day = 1
        case .month: result.day = 1
        default: break
        }
        return result
    }
}
