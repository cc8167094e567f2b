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

/// Korean resident registration numbers: six digits, `-`, seven digits (`900101-1234567`), ASCII only.
public struct ResidentNumberDetector: Detector {
    public let name = "rrn"
    public let replacement: String

    public init(replacement: String = "[RRN]") { self.replacement = replacement }

    public func match(in scalars: [Unicode.Scalar], at start: Int) -> Int? {
        guard start + 14 <= scalars.count else { return nil }
        for offset in 0..<14 {
            let scalar = scalars[start + offset]
            if offset == 6 {
                guard scalar == "-" else { return nil }
            } else {
                guard isASCIIDigit(scalar) else { return nil }
            }
        }
        return 14
    }
}

/// E-mail addresses: `local@domain.tld` with the usual address characters and a top-level domain of two letters or
/// more.
public struct EmailDetector: Detector {
    public let name = "email"
    public let replacement: String

    public init(replacement: String = "[EMAIL]") { self.replacement = replacement }

    public func match(in scalars: [Unicode.Scalar], at start: Int) -> Int? {
        guard isLocal(scalars[start]), start == 0 || !isLocal(scalars[start - 1]) else {
            return nil
        }
        var index = start
        while index < scalars.count, isLocal(scalars[index]) { index += 1 }
        guard index < scalars.count, scalars[index] == "@" else { return nil }
        index += 1
        var lastDot: Int?
        let domainStart = index
        while index < scalars.count, isDomain(scalars[index]) {
            if scalars[index] == "." { lastDot = index }
            index += 1
        }
        while index > domainStart, scalars[index - 1] == "." || scalars[index - 1] == "-" {
            index -= 1
            if lastDot == index { lastDot = scalars[domainStart..<index].lastIndex(of: ".") }
        }
        guard let dot = lastDot, dot > domainStart, index - dot - 1 >= 2,
              scalars[(dot + 1)..<index].allSatisfy({ $0.properties.isAlphabetic && $0.isASCII }) else { return nil }
        return index - start
    }

    private func isLocal(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (scalar.properties.isAlphabetic || isASCIIDigit(scalar) || "._%+-".unicodeScalars.contains(scalar))
    }

    private func isDomain(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (scalar.properties.isAlphabetic || isASCIIDigit(scalar) || scalar == "." || scalar == "-")
    }
}
