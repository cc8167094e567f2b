/// Korean vehicle registration plates: two or three digits, a plate syllable, an optional space, four digits
/// (`12가3456`, `123가 4567`), with or without a region prefix (which stays).
public struct PlateDetector: Detector {
    public let name = "car_plate"
    public let replacement: String
    /// The syllables used on Korean plates.
    static let syllables = Set("가나다라마거너더러머버서어저고노도로모보소오조구누두루무부수우주바사아자배하허호".unicodeScalars)

    public init(replacement: String = "[PLATE]") { self.replacement = replacement }

    /// A digit, ASCII or full-width.
    public func mayStart(_ scalar: Unicode.Scalar) -> Bool { isDigit(scalar) }

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

/// IP addresses: IPv4, four dot-separated numbers from 0 to 255 (`192.168.0.12`), and IPv6 in full form (eight
/// groups) or compressed with `::` (`fe80::1`, `2001:db8::8a2e:370:7334`). Times such as `12:30:45` are not matched.
public struct IPAddressDetector: Detector {
    public let name = "ip_address"
    public let replacement: String

    public init(replacement: String = "[IP]") { self.replacement = replacement }

    /// A digit (IPv4), a hexadecimal digit or a colon (IPv6).
    public func mayStart(_ scalar: Unicode.Scalar) -> Bool {
        IPAddressDetector.isHexDigit(scalar.value) || scalar == ":"
    }

    public func match(in scalars: [Unicode.Scalar], at start: Int) -> Int? {
        matchIPv4(scalars, start) ?? matchIPv6(scalars, start)
    }

    /// `Unicode.Scalar.Properties.isASCIIHexDigit` without the property lookup (this runs at every position).
    @inline(__always)
    static func isHexDigit(_ value: UInt32) -> Bool {
        (0x30...0x39).contains(value) || (0x41...0x46).contains(value) || (0x61...0x66).contains(value)
    }

    private func matchIPv6(_ scalars: [Unicode.Scalar], _ start: Int) -> Int? {
        var index = start, colons = 0, groups = 0, compressed = false, digits = 0
        while index < scalars.count {
            let scalar = scalars[index]
            if IPAddressDetector.isHexDigit(scalar.value) {
                digits += 1
                guard digits <= 4 else { return nil }
            } else if scalar == ":" {
                if digits > 0 { groups += 1 }
                if index + 1 < scalars.count, scalars[index + 1] == ":" {
                    guard !compressed else { break }
                    compressed = true
                    colons += 2
                    index += 2
                    digits = 0
                    continue
                }
                colons += 1
                digits = 0
            } else {
                break
            }
            index += 1
        }
        if digits > 0 { groups += 1 }
        // Trailing single colon is not part of the address.
        while index > start, scalars[index - 1] == ":", !(index >= 2 && scalars[index - 2] == ":") { index -= 1; colons -= 1 }
        let leading = scalars[start] == ":"
        let valid = compressed ? (groups <= 7 && (groups >= 2 || (leading && groups >= 1))) : (groups == 8 && colons == 7)
        return valid && index - start >= 3 ? index - start : nil
    }

    private func matchIPv4(_ scalars: [Unicode.Scalar], _ start: Int) -> Int? {
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
