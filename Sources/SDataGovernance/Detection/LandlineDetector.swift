/// Korean landline and internet-phone numbers: an area code (`02`, `031`–`033`, `041`–`044`, `051`–`055`,
/// `061`–`064`, or `070`), three or four digits, four digits, with optional `-`, `－`, `.`, `)` or space separators:
/// `02-123-4567`, `031)1234-5678`, `070 1234 5678`. Digits may be full-width.
public struct LandlineDetector: Detector {
    public let name = "landline"
    public let replacement: String

    /// Second digits of the area codes after `0N`: 031–033, 041–044, 051–055, 061–064, 070.
    static let areaCodes: [Int: ClosedRange<Int>] = [3: 1...3, 4: 1...4, 5: 1...5, 6: 1...4, 7: 0...0]

    public init(replacement: String = "[PHONE]") { self.replacement = replacement }

    public func mayStart(_ scalar: Unicode.Scalar) -> Bool { isZero(scalar) }

    public func match(in scalars: [Unicode.Scalar], at start: Int) -> Int? {
        var index = start
        guard digitValue(scalars, index) == 0, let first = digitValue(scalars, index + 1) else { return nil }
        index += 2
        if first != 2 {
            guard let second = digitValue(scalars, index), LandlineDetector.areaCodes[first]?.contains(second) == true else {
                return nil
            }
            index += 1
        }
        if index < scalars.count, isSeparator(scalars[index]) { index += 1 }
        var middle = 0
        while middle < 4, digitValue(scalars, index) != nil { index += 1; middle += 1 }
        guard middle >= 3 else { return nil }
        if index < scalars.count, isSeparator(scalars[index]) { index += 1 }
        for _ in 0..<4 {
            guard digitValue(scalars, index) != nil else { return nil }
            index += 1
        }
        return index - start
    }

    private func isSeparator(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "-" || scalar == "\u{FF0D}" || scalar == "." || scalar == ")" || scalar == " "
    }
}
