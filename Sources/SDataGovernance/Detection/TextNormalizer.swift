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

    /// Whether `text` could hold something normalization changes: anything but ASCII and precomposed Hangul
    /// syllables (U+AC00–U+D7A3), which NFKC leaves as they are and which are neither format characters nor dashes.
    /// Korean text is mostly syllables, so most of it skips the costly normalization.
    @inline(__always)
    public static func needsNormalizing(_ text: String) -> Bool {
        guard text.utf8.contains(where: { $0 >= 0x80 }) else { return false }
        return text.unicodeScalars.contains { $0.value >= 0x80 && !(0xAC00...0xD7A3).contains($0.value) }
    }
}
