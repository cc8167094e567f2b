import Foundation
import Testing
@testable import SDataGovernance

/// The PII gate skips the detectors for text its quick byte test rules out; that test must never rule out text in
/// which a detector finds something, or the gate would pass personal data.
struct PIIGatePrefilterTests {
    /// Pieces that make and nearly make every detector's pattern: digits of several widths and compatibility forms,
    /// separators, `@`, colons, dots, plate syllables, other Hangul, format characters.
    static let pieces = [
        "0", "1", "2", "5", "9", "010", "02", "031", "070", "-", "－", "‐", ".", "．", ":", "：", "::", "@", "＠",
        " ", "가", "서울", "나", "한", "a", "f", "e8", "x", "０", "１", "⓪", "①", "𝟎", "¹", "\u{200B}", "\u{00AD}",
        "123456", "1234", "900101", "1234567", "192.168", "fe80", "example.org", "·",
    ]

    @Test func nothingRuledOutHoldsAFinding() {
        var generator = SplitMix(seed: 20261203)
        let scanner = PIIScanner()
        var ruledOut = 0
        for _ in 0 ..< 60_000 {
            var text = ""
            for _ in 0 ..< Int.random(in: 1 ... 14, using: &generator) {
                text += Self.pieces.randomElement(using: &generator)!
            }
            if !PIIScanner.mayHoldPersonalData(text) {
                ruledOut += 1
                let found = scanner.detectNames(text)
                #expect(found.isEmpty, "ruled out, yet \(found) found in '\(text)'")
                if !found.isEmpty { return }
            }
            // The byte form the columnar engine uses agrees with the string form.
            #expect(PIIScanner.mayHoldPersonalData(bytes: Array(text.utf8)) == PIIScanner.mayHoldPersonalData(text))
            #expect(Self.rawVerdict(text) == PIIScanner.mayHoldPersonalData(text), "'\(text)'")
        }
        // The test means something only when much text is ruled out.
        #expect(ruledOut > 5_000, "\(ruledOut)")
    }

    /// The word-at-a-time form decides ASCII text from counts; it must agree with the byte loop everywhere, at every
    /// length around its eight-byte words, on text near each of its conditions (`@`, colons, digits, dots) and on
    /// text that leaves ASCII anywhere in a word.
    @Test func wordAtATimeFormAgreesWithTheByteLoop() {
        var generator = SplitMix(seed: 20261206)
        let alphabet = Array("0123456789:::...@-) aZ/+,~\u{7F}") + ["é", "가", "\u{80}"]
        var ruledOut = 0, suspect = 0
        for _ in 0 ..< 80_000 {
            let length = Int.random(in: 0 ... 27, using: &generator)
            let text = String((0 ..< length).map { _ in
                // Mostly ASCII, so that the counts (not the fallback) decide most texts.
                Int.random(in: 0 ..< 40, using: &generator) == 0
                    ? alphabet.suffix(3).randomElement(using: &generator)!
                    : alphabet.dropLast(3).randomElement(using: &generator)!
            })
            let expected = PIIScanner.mayHoldPersonalData(bytes: Array(text.utf8))
            #expect(Self.rawVerdict(text) == expected, "'\(text)'")
            // The columnar engine trusts the word test alone before its cache of verdicts.
            let ruledOutByWords = Array(text.utf8).withUnsafeBytes { PIIScanner.isRuledOutByWords($0) }
            #expect(!(ruledOutByWords && expected), "ruled out by the words, yet suspect: '\(text)'")
            if Self.rawVerdict(text) != expected { return }
            if expected { suspect += 1 } else { ruledOut += 1 }
        }
        #expect(ruledOut > 10_000 && suspect > 10_000, "\(ruledOut) ruled out, \(suspect) suspect")
    }

    static func rawVerdict(_ text: String) -> Bool {
        // Copied into a buffer of exactly its length, so that a read past the end would be caught by a sanitizer.
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { PIIScanner.mayHoldPersonalData(raw: $0) }
    }

    @Test(arguments: ["37.525", "2020-11-09T15:00:00+09:00", "30-39", "송파구", "12:30:45", "v1.2.3", "12345678"])
    func plainValuesAreRuledOut(text: String) {
        #expect(!PIIScanner.mayHoldPersonalData(text))
    }

    @Test(arguments: ["010-1234-5678", "a@b", "fe80::1", "1.2.3.4", "12가3456", "⓪", "＠", "2001:db8:0:0:0:0:2:1"])
    func suspectValuesAreScanned(text: String) {
        #expect(PIIScanner.mayHoldPersonalData(text))
    }
}
