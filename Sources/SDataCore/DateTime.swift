/// A date and time of day with an optional UTC offset, kept exactly as the source wrote it.
///
/// S-Data never converts between time zones on its own: truncating `2020-11-03T14:25:07+09:00` to the hour gives
/// `2020-11-03T14:00:00+09:00`, keeping the original offset.
public struct DateTime: Sendable, Hashable, CustomStringConvertible {
    public var date: LocalDate
    // Stored compactly (16 bytes in all) so that a `Value` stays small.
    private var storedHour: UInt8
    private var storedMinute: UInt8
    private var storedSecond: UInt8
    private var storedNanosecond: UInt32
    /// The offset in minutes; `Int16.min` for none.
    private var storedOffset: Int16

    public var hour: Int {
        get { Int(storedHour) }
        set { storedHour = UInt8(newValue) }
    }

    public var minute: Int {
        get { Int(storedMinute) }
        set { storedMinute = UInt8(newValue) }
    }

    public var second: Int {
        get { Int(storedSecond) }
        set { storedSecond = UInt8(newValue) }
    }

    /// Fractional seconds in nanoseconds.
    public var nanosecond: Int {
        get { Int(storedNanosecond) }
        set { storedNanosecond = UInt32(newValue) }
    }

    /// The UTC offset in seconds (whole minutes), or `nil` for a local (floating) time.
    public var offsetSeconds: Int? {
        get { storedOffset == .min ? nil : Int(storedOffset) * 60 }
        set { storedOffset = newValue.map { Int16($0 / 60) } ?? .min }
    }

    public init?(date: LocalDate, hour: Int, minute: Int, second: Int, nanosecond: Int = 0, offsetSeconds: Int? = nil) {
        guard (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second),
              (0..<1_000_000_000).contains(nanosecond) else { return nil }
        if let offsetSeconds, abs(offsetSeconds) > 18 * 3600 { return nil }
        self.date = date
        storedHour = UInt8(hour)
        storedMinute = UInt8(minute)
        storedSecond = UInt8(second)
        storedNanosecond = UInt32(nanosecond)
        storedOffset = offsetSeconds.map { Int16($0 / 60) } ?? .min
    }

    public var description: String {
        // Built from bytes: this runs once per value on every published datetime.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        date.appendDigits(to: &bytes)
        bytes.append(UInt8(ascii: "T"))
        appendTwoDigits(hour, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendTwoDigits(minute, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendTwoDigits(second, to: &bytes)
        var text = String(decoding: bytes, as: UTF8.self)
        if nanosecond > 0 {
            var fraction = pad(nanosecond, 9)
            while fraction.hasSuffix("0") { fraction.removeLast() }
            text += "." + fraction
        }
        if let offsetSeconds {
            let sign = offsetSeconds < 0 ? "-" : "+"
            let magnitude = abs(offsetSeconds)
            var offset: [UInt8] = Array(sign.utf8)
            appendTwoDigits(magnitude / 3600, to: &offset)
            offset.append(UInt8(ascii: ":"))
            appendTwoDigits(magnitude % 3600 / 60, to: &offset)
            text += String(decoding: offset, as: UTF8.self)
        }
        return text
    }
}

@inline(__always)
func appendTwoDigits(_ value: Int, to bytes: inout [UInt8]) {
    bytes.append(UInt8(48 + value / 10 % 10))
    bytes.append(UInt8(48 + value % 10))
}
