/// Korean mobile numbers: `010` then an optional separator, four digits, an optional separator, four digits.
/// Digits may be ASCII or full-width (`０１０`), separators `-` or full-width `－`, mixed freely:
/// `010-1234-5678`, `01012345678`, `０10－1234-5678`. Spaces and dots are not separators.
public struct PhoneDetector: Detector {
    public let name = "phone"
    public let replacement: String

    public init(replacement: String = "[PHONE]") { self.replacement = replacement }

    public func match(in scalars: [Unicode.Scalar], at start: Int) -> Int? {
        var index = start
        for expected: UInt32 in [0, 1, 0] {
            guard index < scalars.count else { return nil }
            let value = scalars[index].value
            guard value == 0x30 + expected || value == 0xFF10 + expected else { return nil }
            index += 1
        }
        for _ in 0..<2 {
            if index < scalars.count, scalars[index] == "-" || scalars[index] == "\u{FF0D}" { index += 1 }
            for _ in 0..<4 {
                guard index < scalars.count, isDigit(scalars[index]) else { return nil }
                index += 1
            }
        }
        return index - start
    }
}
