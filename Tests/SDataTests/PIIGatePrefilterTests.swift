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
        }
        // The test means something only when much text is ruled out.
        #expect(ruledOut > 5_000, "\(ruledOut)")
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
