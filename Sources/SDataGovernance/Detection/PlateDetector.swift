/// Korean vehicle registration plates: two or three digits, a plate syllable, an optional space, four digits
/// (`12가3456`, `123가 4567`), with or without a region prefix (which stays).
public struct PlateDetector: Detector {
    public let name = "car_plate"
    public let replacement: String
    /// The syllables used on Korean plates.
    static let syllables = Set("가나다라마거너더러머버서어저고노도로모보소오조구누두루무부수우주바사아자배하허호".unicodeScalars)

    public init(replacement: String = "[PLATE]") { self.replacement = replacement }

    public func match(in scalars: [Unicode.Scalar], at start: Int) -> Int? {
        var index = start
        while index < scalars.count, index - start < 3, isDigit(scalars[index]) { index += 1 }
        guard index - start >= 2, index < scalars.count, PlateDetector.syllables.contains(scalars[index]) else { return nil }
        index += 1
        if index < scalars.count, scalars[index] == " " { index += 1 }
        for _ in 0..<4 {
            guard index < scalars.count, isDigit(scalars[index]) else { return nil }
            index += 1
        }
        return index - start
    }
}

/// IPv4 addresses: four dot-separated numbers from 0 to 255 (`192.168.0.12`).
public struct IPAddressDetector: Detector {
    public let name = "ip_address"
    public let replacement: String

    public init(replacement: String = "[IP]") { self.replacement = replacement }

    public func match(in scalars: [Unicode.Scalar], at start: Int) -> Int? {
        var index = start
        for part in 0..<4 {
            if part > 0 {
                guard index < scalars.count, scalars[index] == "." else { return nil }
                index += 1
            }
            var value = 0, digits = 0
            while index < scalars.count, digits < 3, isASCIIDigit(scalars[index]) {
                value = value * 10 + Int(scalars[index].value - 0x30)
                digits += 1
                index += 1
            }
            guard digits > 0, value <= 255 else { return nil }
        }
        return index - start
    }
}
