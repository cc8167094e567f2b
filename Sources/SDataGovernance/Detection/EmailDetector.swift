/// E-mail addresses: `local@domain.tld` with the usual address characters and a top-level domain of two letters or
/// more.
public struct EmailDetector: Detector {
    public let name = "email"
    public let replacement: String

    public init(replacement: String = "[EMAIL]") { self.replacement = replacement }

    public func mayStart(_ scalar: Unicode.Scalar) -> Bool { isLocal(scalar) }

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
              scalars[(dot + 1)..<index].allSatisfy(isASCIILetter) else { return nil }
        return index - start
    }

    private func isLocal(_ scalar: Unicode.Scalar) -> Bool {
        isASCIILetter(scalar) || isASCIIDigit(scalar) || "._%+-".unicodeScalars.contains(scalar)
    }

    private func isDomain(_ scalar: Unicode.Scalar) -> Bool {
        isASCIILetter(scalar) || isASCIIDigit(scalar) || scalar == "." || scalar == "-"
    }
}
