/// What to do when the final output still holds personal data.
public enum PIIGateMode: String, Sendable, CaseIterable, Codable {
    /// Fail the run; nothing is published.
    case block
    /// Publish, but record the findings in the report and the run log.
    case warn
    /// Drop every record in which something is found, and publish the rest.
    case suppress
    case off
}

/// Scans every text value of the output with the built-in detectors, after normalization (so disguised numbers are
/// found too), and counts findings per field and detector.
final class PIIScanner {
    private let detectors = BuiltinDetectors.gate
    private(set) var findings: [String: Int] = [:]

    /// Detectors that found something in a recently seen value, per field: most fields repeat a few values.
    private var recent: [String: [String: [String]]] = [:]

    /// Counts the findings in `text`; returns whether there were any.
    @discardableResult
    func scan(_ text: String, field: String) -> Bool {
        guard Self.mayHoldPersonalData(text) else { return false }
        if let known = recent[field]?[text] {
            for name in known { findings["\(field):\(name)", default: 0] += 1 }
            return !known.isEmpty
        }
        let found = detect(text, field: field)
        if recent[field, default: [:]].count >= 4096 { recent[field] = [:] }
        recent[field, default: [:]][text] = found
        return !found.isEmpty
    }

    /// The names of the detectors that find something in `text`, counted as findings; no memo.
    func detect(_ text: String, field: String) -> [String] {
        let found = detectNames(text)
        record(found, field: field)
        return found
    }

    /// The names of the detectors that find something in `text`, not counted (the columnar engine counts them
    /// only for the rows it publishes, with ``record(_:field:)``).
    func detectNames(_ text: String) -> [String] {
        let scalars = Array((TextNormalizer.needsNormalizing(text) ? TextNormalizer.normalize(text) : text).unicodeScalars)
        return detectors.filter { $0.found(in: scalars) }.map(\.name)
    }

    /// Counts findings already known for a value seen again.
    func record(_ names: [String], field: String) {
        for name in names { findings["\(field):\(name)", default: 0] += 1 }
    }

    /// Rules out text no built-in detector can match, without decoding it: e-mails need `@`, IPv6 needs `:`, phone
    /// and resident numbers need at least 9 digits, car plates 6 digits and a syllable, IPv4 4 digits and dots.
    static func mayHoldPersonalData(_ text: String) -> Bool { mayHoldPersonalData(bytes: text.utf8) }

    /// The same test on UTF-8 bytes (the columnar engine's fields).
    @inline(__always)
    static func mayHoldPersonalData<Bytes: Sequence<UInt8>>(bytes: Bytes) -> Bool {
        var digits = 0, dots = false, nonASCII = false
        for byte in bytes {
            switch byte {
            case 48...57: digits += 1
            case 64, 58: return true
            case 46: dots = true
            case 0xEF: digits += 1; nonASCII = true  // the lead byte of full-width forms (０–９), counted generously
            case 0x80...: nonASCII = true
            default: break
            }
        }
        return digits >= 9 || (digits >= 6 && nonASCII) || (digits >= 4 && dots)
    }

    var total: Int { findings.values.reduce(0, +) }

    /// Adds another scanner's findings (the columnar engine scans on several workers).
    func merge(_ other: PIIScanner) {
        for (key, count) in other.findings { findings[key, default: 0] += count }
    }
}
