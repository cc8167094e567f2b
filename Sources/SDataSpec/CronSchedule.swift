public import SDataCore

/// A five-field cron expression (`minute hour day-of-month month day-of-week`) with lists, ranges, steps and names
/// (`jan`…`dec`, `sun`…`sat`), and the macros `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`.
public struct CronSchedule: Sendable, Hashable, CustomStringConvertible {
    public let description: String
    public let minutes: Set<Int>
    public let hours: Set<Int>
    public let daysOfMonth: Set<Int>
    public let months: Set<Int>
    /// 0 = Sunday … 6 = Saturday (7 is accepted for Sunday).
    public let daysOfWeek: Set<Int>
    /// Cron's rule: when both day fields are restricted, a day matches if either matches.
    public let dayOfMonthRestricted: Bool
    public let dayOfWeekRestricted: Bool

    private static let macros = [
        "@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
        "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *",
    ]
    private static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    private static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    public init(_ expression: String) throws(PatternError) {
        description = expression
        let expanded = CronSchedule.macros[expression.lowercased()] ?? expression
        let parts = expanded.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard parts.count == 5 else {
            throw PatternError("a schedule has 5 fields (minute hour day-of-month month day-of-week), found \(parts.count)")
        }
        minutes = try CronSchedule.field(parts[0], name: "minute", range: 0...59, names: [])
        hours = try CronSchedule.field(parts[1], name: "hour", range: 0...23, names: [])
        daysOfMonth = try CronSchedule.field(parts[2], name: "day-of-month", range: 1...31, names: [])
        months = try CronSchedule.field(parts[3], name: "month", range: 1...12, names: CronSchedule.monthNames, offset: 1)
        let weekdays = try CronSchedule.field(parts[4], name: "day-of-week", range: 0...7, names: CronSchedule.dayNames)
        daysOfWeek = Set(weekdays.map { $0 % 7 })
        dayOfMonthRestricted = parts[2] != "*" && parts[2] != "?"
        dayOfWeekRestricted = parts[4] != "*" && parts[4] != "?"
    }

    private static func field(_ text: String, name: String, range: ClosedRange<Int>, names: [String],
                              offset: Int = 0) throws(PatternError) -> Set<Int> {
        var values = Set<Int>()
        for item in text.lowercased().split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = item.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { throw PatternError("invalid \(name) '\(item)'") }
            var step = 1
            if pieces.count == 2 {
                guard let parsed = Int(pieces[1]), parsed > 0 else { throw PatternError("invalid step in \(name) '\(item)'") }
                step = parsed
            }
            let span: ClosedRange<Int>
            if pieces[0] == "*" || pieces[0] == "?" {
                span = range
            } else {
                let bounds = pieces[0].split(separator: "-", omittingEmptySubsequences: false)
                guard (1...2).contains(bounds.count) else { throw PatternError("invalid \(name) '\(item)'") }
                var numbers: [Int] = []
                for bound in bounds {
                    if let number = Int(bound) {
                        numbers.append(number)
                    } else if let index = names.firstIndex(of: String(bound)) {
                        numbers.append(index + offset)
                    } else {
                        throw PatternError("invalid \(name) '\(bound)'")
                    }
                }
                guard numbers.allSatisfy(range.contains) else {
                    throw PatternError("\(name) must be within \(range.lowerBound)-\(range.upperBound), found '\(item)'")
                }
                let upper = bounds.count == 2 ? numbers[1] : (pieces.count == 2 ? range.upperBound : numbers[0])
                guard numbers[0] <= upper else { throw PatternError("\(name) range '\(item)' runs backwards") }
                span = numbers[0]...upper
            }
            values.formUnion(stride(from: span.lowerBound, through: span.upperBound, by: step))
        }
        return values
    }
}

