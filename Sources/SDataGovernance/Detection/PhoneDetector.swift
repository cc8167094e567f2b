/// Korean mobile numbers: `010` then an optional separator, four digits, an optional separator, four digits.
/// Digits may be ASCII or full-width (`０１０`), separators `-` or full-width `－`, mixed freely:
/// `010-1234-5678`, `01012345678`, `０10－1234-5678`. Spaces and dots are not separators.
public struct PhoneDetector: Detector {
    public var minimumDigits: Int { 11 }
    public let name = "phone"
    public let replacement: String

    public init(replacement: String = "[PHONE]") { self.replacement = replacement }

    public func mayStart(_ scalar: Unicode.Scalar) -> Bool { isZero(scalar) }

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

/// Every Korean mobile number, including the pre-2021 prefixes: `01` + `0`, `1`, `6`, `7`, `8` or `9`, three or four
/// digits, four digits, optional `-`/`－` separators, ASCII or full-width digits (`011-234-5678`, `019 1234 5678` is
/// not matched: spaces are not separators). `phone` is the narrower `010` form.
public struct MobileDetector: Detector {
    public var minimumDigits: Int { 10 }
    public let name = "mobile"
    public let replacement: String

    public init(replacement: String = "[PHONE]") { self.replacement = replacement }

    public func mayStart(_ scalar: Unicode.Scalar) -> Bool { isZero(scalar) }

    public func match(in scalars: [Unicode.Scalar], at start: Int) -> Int? {
        func digit(_ index: Int) -> Int? { digitValue(scalars, index) }
        guard digit(start) == 0, digit(start + 1) == 1, let third = digit(start + 2), [0, 1, 6, 7, 8, 9].contains(third)
        else { return nil }
        var index = start + 3
        func separator() { if index < scalars.count, scalars[index] == "-" || scalars[index] == "\u{FF0D}" { index += 1 } }
        separator()
        var middle = 0
        while middle < 4, digit(index) != nil { index += 1; middle += 1 }
        guard middle >= 3 else { return nil }
        separator()
        for _ in 0..<4 {
            guard digit(index) != nil else { return nil }
            index += 1
        }
        return index - start
    }
}
