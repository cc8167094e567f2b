/// A date and time of day with an optional UTC offset, kept exactly as the source wrote it.
///
/// S-Data never converts between time zones on its own: truncating `2020-11-03T14:25:07+09:00` to the hour gives
/// `2020-11-03T14:00:00+09:00`, keeping the original offset.
public struct DateTime: Sendable, Hashable, CustomStringConvertible {
    public var date: LocalDate
    public var hour: Int
    public var minute: Int
    public var second: Int
    /// Fractional seconds in nanoseconds.
    public var nanosecond: Int
    /// The UTC offset in seconds, or `nil` for a local (floating) time.
    public var offsetSeconds: Int?

    public init?(date: LocalDate, hour: Int, minute: Int, second: Int, nanosecond: Int = 0, offsetSeconds: Int? = nil) {
        guard (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second),
              (0..<1_000_000_000).contains(nanosecond) else { return nil }
        if let offsetSeconds, abs(offsetSeconds) > 18 * 3600 { return nil }
        self.date = date
        self.hour = hour
        self.minute = minute
        self.second = second
        self.nanosecond = nanosecond
        self.offsetSeconds = offsetSeconds
    }

    public var description: String {
        var text = "\(date)T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))"
        if nanosecond > 0 {
            var fraction = pad(nanosecond, 9)
            while fraction.hasSuffix("0") { fraction.removeLast() }
            text += "." + fraction
        }
        if let offsetSeconds {
            let sign = offsetSeconds < 0 ? "-" : "+"
            let magnitude = abs(offsetSeconds)
            text += "\(sign)\(pad(magnitude / 3600, 2)):\(pad(magnitude % 3600 / 60, 2))"
        }
        return text
    }
}
