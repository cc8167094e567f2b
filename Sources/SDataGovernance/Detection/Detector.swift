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
    /// The leftmost match at or after scalar `from`: where it starts and its length. By default every position
    /// where ``mayStart(_:)`` holds is tried with ``match(in:at:)``; a requirement, so that a detector can bring a
    /// faster scan of its own.
    func firstMatch(in scalars: [Unicode.Scalar], from: Int) -> (start: Int, length: Int)?
    /// `text` with every match replaced, and the number of matches.
    func redact(_ text: String) -> (String, Int)
}

extension Detector {
    public var minimumDigits: Int { 0 }
    public func mayStart(_ scalar: Unicode.Scalar) -> Bool { true }

    public func firstMatch(in scalars: [Unicode.Scalar], from: Int) -> (start: Int, length: Int)? {
        var start = from
        while start < scalars.count {
            if mayStart(scalars[start]), let length = match(in: scalars, at: start) { return (start, length) }
            start += 1
        }
        return nil
    }

    /// Matches replaced leftmost first, each scan resuming after the last match; the text between matches is
    /// copied as UTF-8 runs. Text without a match is returned as it is.
    public func redact(_ text: String) -> (String, Int) {
        let scalars = Array(text.unicodeScalars)
        guard var next = firstMatch(in: scalars, from: 0) else { return (text, 0) }
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + replacement.utf8.count)
        // The scalars, and their UTF-8 bytes, copied or replaced so far.
        var index = 0, offset = 0, count = 0
        func width(_ range: Range<Int>) -> Int { scalars[range].reduce(0) { $0 + UTF8.width($1) } }
        while true {
            let start = offset + width(index ..< next.start)
            output.append(contentsOf: bytes[offset ..< start])
            output.append(contentsOf: replacement.utf8)
            offset = start + width(next.start ..< next.start + next.length)
            index = next.start + next.length
            count += 1
            guard let found = firstMatch(in: scalars, from: index) else { break }
            next = found
        }
        output.append(contentsOf: bytes[offset...])
        return (String(decoding: output, as: UTF8.self), count)
    }
}

extension Detector {
    /// True when `text` holds at least one match.
    public func found(in text: String) -> Bool {
        found(in: Array(text.unicodeScalars))
    }

    func found(in scalars: [Unicode.Scalar]) -> Bool {
        firstMatch(in: scalars, from: 0) != nil
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

/// `0` or `０`: where the phone-number detectors' matches start.
@inline(__always)
func isZero(_ scalar: Unicode.Scalar) -> Bool { scalar.value == 0x30 || scalar.value == 0xFF10 }

@inline(__always)
func isASCIIDigit(_ scalar: Unicode.Scalar) -> Bool { (0x30...0x39).contains(scalar.value) }
/// `A`–`Z`, `a`–`z`: the ASCII scalars with Unicode's Alphabetic property, without the property table's lookup.
func isASCIILetter(_ scalar: Unicode.Scalar) -> Bool { (scalar.value | 0x20) &- 0x61 < 26 }
