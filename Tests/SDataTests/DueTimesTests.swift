import Foundation
import Testing
import SDataCore
import SDataSpec

/// When schedules fire: cron semantics with an injected clock, in real time zones with and without DST.
struct DueTimesTests {
    static func date(_ text: String) -> Date {
        let formatter = ISO8601DateFormatter()
        return formatter.date(from: text)!
    }

    static func next(_ cron: String, _ zone: String, after: String) throws -> String? {
        let times = DueTimes(schedule: try CronSchedule(cron), timeZone: TimeZone(identifier: zone)!)
        return times.next(after: date(after)).map { ISO8601DateFormatter().string(from: $0) }
    }

    @Test func dailyInSeoul() throws {
        #expect(try Self.next("0 2 * * *", "Asia/Seoul", after: "2026-11-24T12:00:00Z") == "2026-11-24T17:00:00Z")
        #expect(try Self.next("0 2 * * *", "Asia/Seoul", after: "2026-11-24T17:00:00Z") == "2026-11-25T17:00:00Z")
    }

    @Test func monthEndsAndLeapDays() throws {
        // The 31st skips the months that have none.
        #expect(try Self.next("0 0 31 * *", "UTC", after: "2026-01-31T00:00:00Z") == "2026-03-31T00:00:00Z")
        #expect(try Self.next("0 0 29 2 *", "UTC", after: "2026-03-01T00:00:00Z") == "2028-02-29T00:00:00Z")
        #expect(try Self.next("59 23 28-31 2 *", "Asia/Seoul", after: "2028-02-28T15:00:00Z") == "2028-02-29T14:59:00Z")
    }

    @Test func daylightSavingTimeInRome() throws {
        // 2026-03-29: 02:00 → 03:00 in Europe/Rome; 02:30 does not exist that day.
        #expect(try Self.next("30 2 * * *", "Europe/Rome", after: "2026-03-28T02:00:00Z") == "2026-03-30T00:30:00Z")
        // 2026-10-25: 03:00 → 02:00; 02:30 happens twice and fires once, at the first (CEST) occurrence.
        #expect(try Self.next("30 2 * * *", "Europe/Rome", after: "2026-10-24T12:00:00Z") == "2026-10-25T00:30:00Z")
        #expect(try Self.next("30 2 * * *", "Europe/Rome", after: "2026-10-25T00:30:00Z") == "2026-10-26T01:30:00Z")
        // Seoul keeps no DST: the same local time is the same UTC time all year.
        #expect(try Self.next("30 2 * * *", "Asia/Seoul", after: "2026-03-28T02:00:00Z") == "2026-03-28T17:30:00Z")
    }

    @Test func halfHourZonesAndDayRules() throws {
        #expect(try Self.next("0 * * * *", "Asia/Kolkata", after: "2026-11-24T00:00:00Z") == "2026-11-24T00:30:00Z")
        // Day-of-month and day-of-week both restricted: either matches (cron's rule).
        #expect(try Self.next("0 9 1 * mon", "UTC", after: "2026-11-24T10:00:00Z") == "2026-11-30T09:00:00Z")
        #expect(try Self.next("*/15 * * * *", "UTC", after: "2026-11-24T10:07:00Z") == "2026-11-24T10:15:00Z")
    }

    @Test func catchUpGivesOneRunAfterDowntime() throws {
        let times = DueTimes(schedule: try CronSchedule("0 * * * *"), timeZone: TimeZone(identifier: "UTC")!)
        let latest = times.latest(atOrBefore: Self.date("2026-11-24T10:30:00Z"), since: Self.date("2026-11-24T01:00:00Z"))
        #expect(latest == Self.date("2026-11-24T10:00:00Z"))
        #expect(times.latest(atOrBefore: Self.date("2026-11-24T10:30:00Z"), since: Self.date("2026-11-24T10:00:00Z")) == nil)
    }

    @Test func catchUpNoneSkipsFiringsMissedWhileNothingChecked() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func spec(_ catchup: String) throws -> PipelineSpec {
            try TestSupport.write("""
                id: hourly
                schedule: "0 * * * *"
                catchup: \(catchup)
                source: { plugin: file, with: { path: a.csv } }
                """, to: directory + "/hourly.yaml")
            return try TestSupport.spec(directory + "/hourly.yaml")
        }
        let lastRun = Self.date("2026-11-24T01:00:00Z")
        let now = Self.date("2026-11-24T10:30:00Z")
        // Down from 02:00 to 10:20: the 10:00 firing was missed while nothing checked.
        let checked = Self.date("2026-11-24T10:20:00Z")
        #expect(try spec("latest").dueFiring(now: now, lastRun: lastRun, checkedSince: checked) == Self.date("2026-11-24T10:00:00Z"))
        #expect(try spec("none").dueFiring(now: now, lastRun: lastRun, checkedSince: checked) == nil)
        // A firing after the last check is due either way.
        #expect(try spec("none").dueFiring(now: Self.date("2026-11-24T11:00:30Z"), lastRun: lastRun, checkedSince: now)
                == Self.date("2026-11-24T11:00:00Z"))
        let bad = try TestSupport.diagnostics("id: x\ncatchup: all\nsource: { plugin: file, with: { path: a.csv } }\n",
                                              in: directory)
        #expect(bad.contains { $0.message == "'catchup' must be none or latest" })
        #expect(bad.contains { $0.message == "'catchup' needs a 'schedule'" })
    }

    @Test func runDueRunsOnlyWhatIsDue() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try TestSupport.write("a\n1\n", to: directory + "/pipelines/data.csv")
        try TestSupport.write("id: yearly\nschedule: \"0 0 1 1 *\"\nsource: { plugin: file, with: { path: data.csv } }\n",
                              to: directory + "/pipelines/hourly.yaml")
        try TestSupport.write("id: manual\nsource: { plugin: file, with: { path: data.csv } }\n",
                              to: directory + "/pipelines/manual.yaml")
        let first = try TestSupport.execute(TestSupport.sdataBinary, ["run", "--all", "--due"], in: directory)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("✓ yearly: published version 1"))
        #expect(first.stdout.contains("- manual: no schedule"))
        let second = try TestSupport.execute(TestSupport.sdataBinary, ["run", "--all", "--due"], in: directory)
        #expect(second.stdout.contains("- yearly: not due (next run"))
        #expect(second.stdout.contains("no pipeline is due"))
    }
}
