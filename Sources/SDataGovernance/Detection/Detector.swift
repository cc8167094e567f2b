/// Finds one kind of personal data in text.
///
/// Detectors scan Unicode scalars left to right and report non-overlapping matches, leftmost first, the way
/// `re.sub` or `Regex.replace_all` would; they never look at context beyond the match (no word boundaries), so a
/// number glued to other digits is still found.
public protocol Detector: Sendable {
    /// The name used in specs (`detect: [phone]`) and reports.
    var name: String { get }
    /// The text written in place of a match.
    var replacement: String { get }
    /// The length of a match starting at `start`, or `nil`.
    func match(in scalars: [Unicode.Scalar], at start: Int) -> Int?
    /// False when no match can start with `scalar` (so ``match(in:at:)`` there is `nil`): the scans ask this before
    /// trying a position, and most positions of text (Hangul, letters, spaces) start nothing. True by default.
    func mayStart(_ scalar: Unicode.Scalar) -> Bool
    /// The fewest digits (ASCII or full-width) a match holds; text with fewer cannot match, which lets the columnar
    /// engine skip decoding it. 0 when a match may hold none (e-mail addresses).
    var minimumDigits: Int { get }
}

extension Detector {
    public var minimumDigits: Int { 0 }
    public func mayStart(_ scalar: Unicode.Scalar) -> Bool { true }
}

extension Detector {
    /// True when `text` holds at least one match.
    public func found(in text: String) -> Bool {
        found(in: Array(text.unicodeScalars))
    }

    func found(in scalars: [Unicode.Scalar]) -> Bool {
        firstMatch(in: scalars) != nil
    }

    /// Where the leftmost match starts, or `nil`.
    func firstMatch(in scalars: [Unicode.Scalar]) -> Int? {
        scalars.indices.first { mayStart(scalars[$0]) && match(in: scalars, at: $0) != nil }
    }

    /// `text` with every match replaced, and the number of matches.
    public func redact(_ text: String) -> (String, Int) {
        let scalars = Array(text.unicodeScalars)
        // Most text holds no match: it is returned as it is, without building a copy.
        guard let first = firstMatch(in: scalars) else { return (text, 0) }
        var output = String.UnicodeScalarView()
        output.append(contentsOf: scalars[..<first])
        var count = 0
        var index = first
        while index < scalars.count {
            if mayStart(scalars[index]), let length = match(in: scalars, at: index) {
                output.append(contentsOf: replacement.unicodeScalars)
                index += length
                count += 1
            } else {
                output.append(scalars[index])
                index += 1
            }
        }
        return count == 0 ? (text, 0) : (String(output), count)
    }
}

/// The detectors built into S-Data, by name.
public enum BuiltinDetectors {
    public static let all: [any Detector] = [
        PhoneDetector(), MobileDetector(), LandlineDetector(), ResidentNumberDetector(), ForeignerNumberDetector(),
        EmailDetector(), PlateDetector(), IPAddressDetector(),
    ]
    /// What the PII gate scans with: every detector, resident numbers also without their dash.
    public static let gate: [any Detector] = [
        MobileDetector(), LandlineDetector(), ResidentNumberDetector(undashed: true), EmailDetector(), PlateDetector(),
        IPAddressDetector(),
    ]
    public static var names: [String] { all.map(\.name) }
    public static func named(_ name: String) -> (any Detector)? { all.first { $0.name == name } }
}

@inline(__always)
func isDigit(_ scalar: Unicode.Scalar) -> Bool {
    (0x30...0x39).contains(scalar.value) || (0xFF10...0xFF19).contains(scalar.value)
}

/// The value of an ASCII or full-width digit at `index`, or `nil`.
@inline(__always)
func digitValue(_ scalars: [Unicode.Scalar], _ index: Int) -> Int? {
    guard index < scalars.count else { return nil }
    let value = scalars[index].value
    if (0x30...0x39).contains(value) { return Int(value - 0x30) }
    if (0xFF10...0xFF19).contains(value) { return Int(value - 0xFF10) }
    return nil
}

@inline(__always)
func isASCIIDigit(_ scalar: Unicode.Scalar) -> Bool { (0x30...0x39).contains(scalar.value) }
/// `A`–`Z`, `a`–`z`: the ASCII scalars with Unicode's Alphabetic property, without the property table's lookup.
func isASCIILetter(_ scalar: Unicode.Scalar) -> Bool { (scalar.value | 0x20) &- 0x61 < 26 }
