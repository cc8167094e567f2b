public import Foundation

/// When a cron schedule fires, in a time zone, with daylight-saving time handled the way cron users expect: a local
/// time that does not exist (the hour skipped in spring) does not fire; a local time that occurs twice (the hour
/// repeated in autumn) fires once, at its first occurrence.
public struct DueTimes: Sendable {
    public let schedule: CronSchedule
    public let timeZone: TimeZone

    public init(schedule: CronSchedule, timeZone: TimeZone) {
        self.schedule = schedule
        self.timeZone = timeZone
    }

    private var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    /// The first firing strictly after `date`, within `horizon` (default: about four years, enough for `29 2 *`).
    public func next(after date: Date, horizon: TimeInterval = 4 * 366 * 86_400) -> Date? {
        var candidate = (date.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60
        let end = date.timeIntervalSince1970 + horizon
        let calendar = self.calendar
        while candidate <= end {
            let instant = Date(timeIntervalSince1970: candidate)
            let parts = calendar.dateComponents([.month, .day, .weekday, .hour, .minute], from: instant)
            let month = parts.month!, day = parts.day!, hour = parts.hour!
            if !schedule.months.contains(month) {
                candidate = startOfNextLocalMonth(after: instant, calendar: calendar)
                continue
            }
            if !dayMatches(month: month, day: day, weekday: parts.weekday! - 1) {
                candidate = startOfNextLocalDay(after: instant, calendar: calendar)
                continue
            }
            if !schedule.hours.contains(hour) {
                // To the next local hour (time zones with half-hour offsets do not align with UTC hours).
                candidate += TimeInterval(60 - parts.minute!) * 60
                continue
            }
            if schedule.minutes.contains(parts.minute!), isFirstOccurrence(instant, calendar: calendar) {
                return instant
            }
            candidate += 60
        }
        return nil
    }

    /// The latest firing at or before `date` and after `since` (the catch-up policy `latest`: one run, not a storm).
    public func latest(atOrBefore date: Date, since: Date) -> Date? {
        var cursor = since
        var last: Date?
        while let fire = next(after: cursor), fire <= date {
            last = fire
            cursor = fire
        }
        return last
    }

    private func dayMatches(month: Int, day: Int, weekday: Int) -> Bool {
        let dayOfMonth = schedule.daysOfMonth.contains(day), dayOfWeek = schedule.daysOfWeek.contains(weekday)
        switch (schedule.dayOfMonthRestricted, schedule.dayOfWeekRestricted) {
        case (true, true): return dayOfMonth || dayOfWeek
        case (true, false): return dayOfMonth
        case (false, true): return dayOfWeek
        case (false, false): return true
        }
    }

    /// False for the second pass through a repeated local hour (autumn DST change).
    private func isFirstOccurrence(_ instant: Date, calendar: Calendar) -> Bool {
        let earlier = instant.addingTimeInterval(-3600)
        let now = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: instant)
        let before = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: earlier)
        return now != before
    }

    private func startOfNextLocalDay(after instant: Date, calendar: Calendar) -> TimeInterval {
        let start = calendar.startOfDay(for: instant)
        let next = calendar.date(byAdding: .day, value: 1, to: start) ?? instant.addingTimeInterval(86_400)
        return next.timeIntervalSince1970
    }

    private func startOfNextLocalMonth(after instant: Date, calendar: Calendar) -> TimeInterval {
        let parts = calendar.dateComponents([.year, .month], from: instant)
        let first = calendar.date(from: parts) ?? instant
        let next = calendar.date(byAdding: .month, value: 1, to: first) ?? instant.addingTimeInterval(28 * 86_400)
        return next.timeIntervalSince1970
    }
}

extension PipelineSpec {
    /// The firing that makes this pipeline due at `now`, or `nil` when it is not due (or has no schedule).
    ///
    /// - Parameters:
    ///   - lastRun: when its most recent run started (`nil`: it never ran).
    ///   - checkedSince: when the schedule was last checked (the scheduler's previous tick, the previous
    ///     `run --due`): with `catchup: none`, firings before it were missed while nothing was checking, and are
    ///     skipped. With `catchup: latest` (the default) they give one run.
    public func dueFiring(now: Date, lastRun: Date?, checkedSince: Date?) -> Date? {
        guard let schedule else { return nil }
        let times = DueTimes(schedule: schedule, timeZone: timezone.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!)
        var since = lastRun
        if operations.catchUp == .none, let checkedSince { since = max(since ?? checkedSince, checkedSince) }
        guard let since else { return now }  // never ran, and nothing says to wait: due at once
        return times.latest(atOrBefore: now, since: since)
    }

    /// The next firing after `date`.
    public func nextFiring(after date: Date) -> Date? {
        guard let schedule else { return nil }
        return DueTimes(schedule: schedule, timeZone: timezone.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!)
            .next(after: date)
    }
}
