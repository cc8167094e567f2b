/// Korean resident registration numbers: six digits, `-`, seven digits (`900101-1234567`), ASCII only. With
/// `undashed`, thirteen digits in a row also match when they start with a real date of birth and the seventh digit
/// is 1–8 (numbers issued since October 2020 carry no check digit, so none is required). Foreigner registration
/// numbers have the same shape (seventh digit 5–8) and are found too.
public struct ResidentNumberDetector: Detector {
    public var minimumDigits: Int { 13 }
    public let name = "rrn"
    public let replacement: String

    public let undashed: Bool

    public init(replacement: String = "[RRN]", undashed: Bool = false) {
        self.replacement = replacement
        self.undashed = undashed
    }

    /// ASCII digits only, in both forms.
    public func mayStart(_ scalar: Unicode.Scalar) -> Bool { isASCIIDigit(scalar) }

    public func match(in scalars: [Unicode.Scalar], at start: Int) -> Int? {
        if undashed, let length = matchUndashed(scalars, start) { return length }
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

extension ResidentNumberDetector {
    private func matchUndashed(_ scalars: [Unicode.Scalar], _ start: Int) -> Int? {
        guard start + 13 <= scalars.count else { return nil }
        var digits: [Int] = []
        for offset in 0..<13 {
            let scalar = scalars[start + offset]
            guard isASCIIDigit(scalar) else { return nil }
            digits.append(Int(scalar.value - 0x30))
        }
        let month = digits[2] * 10 + digits[3], day = digits[4] * 10 + digits[5]
        guard (1...12).contains(month), (1...31).contains(day), (1...8).contains(digits[6]) else { return nil }
        return 13
    }
}

/// Foreigner registration numbers only: the resident-number shape with a seventh digit of 5–8.
public struct ForeignerNumberDetector: Detector {
    public var minimumDigits: Int { 13 }
    public let name = "foreigner"
    public let replacement: String

    public init(replacement: String = "[FRN]") { self.replacement = replacement }

    public func mayStart(_ scalar: Unicode.Scalar) -> Bool { isASCIIDigit(scalar) }

    public func match(in scalars: [Unicode.Scalar], at start: Int) -> Int? {
        guard let length = ResidentNumberDetector(undashed: true).match(in: scalars, at: start) else { return nil }
        let seventh = scalars[start + (length == 14 ? 7 : 6)]
        return (0x35...0x38).contains(seventh.value) ? length : nil
    }
}
