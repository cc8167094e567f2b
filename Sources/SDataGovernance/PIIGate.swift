import SDataCore

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

    /// Rules out text no built-in detector can match, without decoding it. Only text of ASCII and precomposed Hangul
    /// syllables is ruled out (normalization leaves both as they are; any other character may become a digit, `@`,
    /// `:` or `.` — `⓪`, `𝟎`, `＠`, `：`), and only when it lacks what every detector needs: e-mails an `@`, IPv6 a
    /// `::` or seven colons, IPv4 three dots and four digits, phone and resident numbers a run of nine digits (at
    /// most one `-`, `.`, `)` or space between two of them), plates six digits and a syllable.
    /// (Each detector's pattern shows why; `PIIGatePrefilterTests` checks it against the detectors on random text.)
    static func mayHoldPersonalData(_ text: String) -> Bool { mayHoldPersonalData(bytes: text.utf8) }

    /// The same test on UTF-8 bytes (the columnar engine's fields).
    @inline(__always)
    static func mayHoldPersonalData<Bytes: Sequence<UInt8>>(bytes: Bytes) -> Bool {
        var digits = 0, dots = 0, colons = 0, hangul = false, colonBefore = false
        // The current run of digits (separators since its last digit in `gap`) and the longest run.
        var run = 0, gap = 0, longest = 0
        // A three-byte sequence being read: its scalar so far and the continuation bytes still to come.
        var scalar: UInt32 = 0, pending = 0
        for byte in bytes {
            if pending > 0 {
                scalar = scalar << 6 | UInt32(byte & 0x3F)
                pending -= 1
                if pending == 0 {
                    guard (0xAC00 ... 0xD7A3).contains(scalar) else { return true }
                    hangul = true
                    run = 0
                }
                continue
            }
            let colon = byte == 58
            defer { colonBefore = colon }
            switch byte {
            case 48 ... 57:
                digits += 1
                run = gap <= 1 ? run + 1 : 1
                gap = 0
                longest = max(longest, run)
            case 45, 46, 41, 32:  // - . ) space: separators inside phone numbers
                if byte == 46 { dots += 1 }
                gap += 1
            case 58:
                if colonBefore { return true }  // "::"
                colons += 1
                run = 0
            case 64: return true
            case 0xE0 ... 0xEF:
                scalar = UInt32(byte & 0x0F)
                pending = 2
            case 0x80...: return true
            default: run = 0
            }
        }
        return pending > 0 || longest >= 9 || colons >= 7 || (digits >= 4 && dots >= 3) || (digits >= 6 && hangul)
    }

    /// The same test on a field's bytes, eight at a time for ASCII: text of ASCII alone is ruled out without the
    /// byte loop when it has no `@`, at most one colon, fewer than nine digits (so no run of nine) and not both four
    /// digits and three dots — the loop's own conditions, from counts (a colon or dot count may come out high, which
    /// only sends the text to the loop). Anything else, and any non-ASCII byte, takes the loop.
    @inline(__always)
    static func mayHoldPersonalData(raw bytes: UnsafeRawBufferPointer) -> Bool {
        !isRuledOutByWords(bytes) && mayHoldPersonalData(bytes: bytes)
    }

    /// Whether the word test alone rules `bytes` out (ASCII text lacking what every detector needs); false sends
    /// the text to the byte loop. It touches nothing but the bytes, so callers run it before any lookup in memory.
    @inline(__always)
    static func isRuledOutByWords(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var digits = 0, colons = 0, dots = 0, offset = 0
        var others: UInt64 = 0
        let high: UInt64 = 0x8080_8080_8080_8080
        while offset < bytes.count {
            let word = ByteScan.loadPartial(base + offset, min(8, bytes.count - offset))
            offset += 8
            others |= word & high | ByteScan.zeroMarks(word ^ ByteScan.splat(UInt8(ascii: "@")))
            // With the high bits clear, adding 0x50 sets a byte's high bit when it is ≥ '0', adding 0x46 when > '9',
            // and no carry crosses a byte.
            let digitMarks = (word &+ ByteScan.splat(0x50)) & ~(word &+ ByteScan.splat(0x46)) & high
            digits &+= digitMarks.nonzeroBitCount
            colons &+= ByteScan.zeroMarks(word ^ ByteScan.splat(UInt8(ascii: ":"))).nonzeroBitCount
            dots &+= ByteScan.zeroMarks(word ^ ByteScan.splat(UInt8(ascii: "."))).nonzeroBitCount
        }
        return others == 0 && colons <= 1 && digits < 9 && (digits < 4 || dots < 3)
    }

    var total: Int { findings.values.reduce(0, +) }

    /// Adds another scanner's findings (the columnar engine scans on several workers).
    func merge(_ other: PIIScanner) {
        for (key, count) in other.findings { findings[key, default: 0] += count }
    }
}
