import Foundation
import Testing
import SDataCore

/// The store's and the logs' timestamps are formatted by arithmetic instead of `ISO8601DateFormatter`: the text must
/// be the formatter's, for instants over several centuries (leap days, the turn of years, before 1970, fractions
/// that truncate), and reading it back must give the instant to the millisecond.
struct UTCTimestampTests {
    @Test func formatsAsISO8601DateFormatterDoes() {
        let plain = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var state: UInt64 = 0x0DDB_1A5E_5BAD_5EED
        var instants: [Double] = [0, -1, -0.0005, 0.9999, 951_782_400, 951_868_799.999, 4_102_444_800, -2_208_988_800,
                                  1_765_000_000.370, 1_709_164_800, 253_402_300_799.999]
        for _ in 0 ..< 20_000 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            // Millisecond instants between 1900 and 2400.
            let milliseconds = Int64(state % 15_778_800_000_000) - 2_208_988_800_000
            instants.append(Double(milliseconds) / 1000)
        }
        for seconds in instants {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(UTCTimestamp.format(seconds, milliseconds: false) == plain.string(from: date), "\(seconds)")
            #expect(UTCTimestamp.format(seconds, milliseconds: true) == fractional.string(from: date), "\(seconds)")
            // Between milliseconds too.
            let between = seconds + 0.000_3
            #expect(UTCTimestamp.format(between, milliseconds: true)
                    == fractional.string(from: Date(timeIntervalSince1970: between)), "\(between)")
            let text = UTCTimestamp.format(seconds, milliseconds: true)
            let back = UTCTimestamp.parse(text)
            #expect(back.map { abs($0 - seconds) < 0.000_501 } == true, "\(text)")
        }
    }

    @Test func readsOnlyItsOwnShapes() {
        #expect(UTCTimestamp.parse("2026-12-07T01:59:03Z") == 1_796_608_743)
        #expect(UTCTimestamp.parse("2026-12-07T01:59:03.5Z") == 1_796_608_743.5)
        for text in ["2026-12-07T01:59:03", "2026-12-07T01:59:03+09:00", "2026-02-30T00:00:00Z", "2026-12-07 01:59:03Z",
                     "2026-12-07T24:00:00Z", "2026-12-07T01:59:03.Z", "", "2026-13-01T00:00:00Z"] {
            #expect(UTCTimestamp.parse(text) == nil, "\(text)")
        }
    }
}
