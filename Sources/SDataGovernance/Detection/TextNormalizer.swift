import Foundation

/// Undoes the usual ways personal data is disguised in text before detectors look at it: compatibility forms
/// (NFKC turns full-width `０１０` into `010` and `－` into `-`), invisible format characters inserted between digits
/// (zero-width spaces and joiners, soft hyphens, word joiners, BOMs), and the many dash look-alikes.
public enum TextNormalizer {
    public static func normalize(_ text: String) -> String {
        let compatible = text.precomposedStringWithCompatibilityMapping
        var scalars = String.UnicodeScalarView()
        for scalar in compatible.unicodeScalars {
            if scalar.properties.generalCategory == .format { continue }
            switch scalar.value {
            case 0x2010...0x2015, 0x2212, 0xFE58, 0xFE63: scalars.append("-")
            default: scalars.append(scalar)
            }
        }
        return String(scalars)
    }

    /// Whether `text` could hold something normalization changes (anything outside printable ASCII).
    @inline(__always)
    public static func needsNormalizing(_ text: String) -> Bool {
        text.utf8.contains { $0 >= 0x80 }
    }
}
