/// What to do when the final output still holds personal data.
public enum PIIGateMode: String, Sendable, CaseIterable, Codable {
    /// Fail the run; nothing is published.
    case block
    /// Publish, but record the findings in the report and the run log.
    case warn
    case off
}

/// Scans every text value of the output with the built-in detectors, after normalization (so disguised numbers are
/// found too), and counts findings per field and detector.
final class PIIScanner {
    private let detectors = BuiltinDetectors.gate
    private(set) var findings: [String: Int] = [:]

    func scan(_ text: String, field: String) {
        // Every built-in detector needs a digit or an `@`: most text is ruled out without decoding it.
        guard text.utf8.contains(where: { (48...57).contains($0) || $0 == 64 || $0 >= 0xEF }) else { return }
        let scalars = Array((TextNormalizer.needsNormalizing(text) ? TextNormalizer.normalize(text) : text).unicodeScalars)
        for detector in detectors where detector.found(in: scalars) {
            findings["\(field):\(detector.name)", default: 0] += 1
        }
    }

    var total: Int { findings.values.reduce(0, +) }
}
