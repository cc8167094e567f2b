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
