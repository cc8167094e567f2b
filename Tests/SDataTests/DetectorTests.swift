import Testing
import SDataGovernance

struct DetectorTests {
    static func redact(_ text: String) -> String {
        var result = text
        for name in ["phone", "rrn"] { result = BuiltinDetectors.named(name)!.redact(result).0 }
        return result
    }

    /// The tracing-publish workload's edge cases (WORKLOAD.md §4): no word boundaries, phones before RRNs.
    @Test(arguments: [
        ("0101234567890", "[PHONE]90"),
        ("9010-1234-5678", "9[PHONE]"),
        ("12345678-1234567", "12[RRN]"),
        ("900101-12345678", "[RRN]8"),
        ("900101-01012345678", "900101-[PHONE]"),
        ("010-1234-5678-900101-1234567", "[PHONE]-[RRN]"),
        ("010--1234-5678", "010--1234-5678"),
        ("９００１０１-１２３４５６７", "９００１０１-１２３４５６７"),
        ("０10-12３4-5678", "[PHONE]"),
        ("010-1234－5678", "[PHONE]"),
        ("０１０－１２３４－５６７８", "[PHONE]"),
        ("010 1234 5678", "010 1234 5678"),
        ("연락처 010-123-4567 (오기)", "연락처 010-123-4567 (오기)"),
        ("02-123-4567", "02-123-4567"),
        ("15,000원", "15,000원"),
    ])
    func workloadCases(input: String, expected: String) {
        #expect(Self.redact(input) == expected)
    }

    @Test func emailsAreFound() {
        let email = BuiltinDetectors.named("email")!
        #expect(email.redact("mail kim.ji-su+tag@seoul.go.kr now").0 == "mail [EMAIL] now")
        #expect(email.redact("user@localhost").0 == "user@localhost")
        #expect(email.redact("a@b.c").0 == "a@b.c")
        #expect(email.redact("x@y.co.").0 == "[EMAIL].")
    }

    /// Every scalar of the first planes, in an address's local part and in its top-level domain: the detector accepts
    /// exactly the ASCII letters and digits and `._%+-` (local) and the ASCII letters (domain), as Unicode's
    /// Alphabetic property restricted to ASCII says.
    @Test func emailCharacterClassesAreASCII() {
        let email = BuiltinDetectors.named("email")!
        for value in UInt32(0) ... 0x2FFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let letter = scalar.isASCII && scalar.properties.isAlphabetic
            let local = letter || (0x30 ... 0x39).contains(value) || "._%+-".unicodeScalars.contains(scalar)
            let character = String(Character(scalar))
            #expect(email.found(in: "x" + character + "@ab.cd") == local, "U+\(String(value, radix: 16))")
            #expect(email.found(in: "x@ab.c" + character + "d") == letter, "U+\(String(value, radix: 16))")
        }
    }

    /// Property: a mobile number in any mix of widths and separators, planted anywhere in text, is always removed.
    @Test func plantedPhonesNeverSurvive() {
        var generator = SplitMix(seed: 20201103)
        let fullWidth: [Character] = ["０", "１", "２", "３", "４", "５", "６", "７", "８", "９"]
        let separators = ["", "-", "－"]
        let contexts = ["", "연락처:", "tel=", "a", "1", " ", "https://x.example/?p="]
        for _ in 0..<2000 {
            var digits = "010"
            for _ in 0..<8 { digits.append(Character(String(generator.next() % 10))) }
            var phone = ""
            for (index, character) in digits.enumerated() {
                if index == 3 || index == 7 { phone += separators[Int(generator.next() % 3)] }
                let digit = Int(String(character))!
                phone.append(generator.next() % 2 == 0 ? character : fullWidth[digit])
            }
            let text = contexts[Int(generator.next() % UInt64(contexts.count))] + phone
                + contexts[Int(generator.next() % UInt64(contexts.count))]
            let redacted = Self.redact(text)
            #expect(redacted.contains("[PHONE]"), "planted phone survived in a \(text.count)-character text")
            #expect(!PhoneDetector().found(in: redacted))
        }
    }

    /// Property: a detector's `mayStart` is false only where no match starts, so the scans that skip those
    /// positions find and redact what trying every position would — on random text dense in near-matches: digits
    /// of both widths, separators, plate syllables, address and IPv6 characters, Hangul, letters.
    @Test func skippedPositionsStartNoMatch() {
        var generator = SplitMix(seed: 20261207)
        let pieces = ["0", "1", "2", "5", "9", "01", "010", "02", "031", "070", "０", "１", "９", "０１０", "-", "－",
                      ".", ")", " ", ":", "::", "@", "a", "f", "Z", "x.kr", "_", "%", "+", "가", "나", "호", "서울",
                      "번호", "900101", "1234567", "192.168", "fe80", "dB8", "\u{FF0E}", "é",
                      // and whole matches, to be cut, joined and overlapped by the rest
                      "010-1234-5678", "０１０－１２３４－５６７８", "011 234 5678", "02)123-4567", "900101-1234567",
                      "9001011234567", "9001015234567", "me@x.kr", "12가3456", "１２나 ３４５６", "10.0.0.1", "fe80::1"]
        let detectors = BuiltinDetectors.all + BuiltinDetectors.gate
        var skipped = 0, matched: [String: Int] = [:]
        for _ in 0 ..< 4000 {
            var text = ""
            for _ in 0 ..< Int.random(in: 1 ... 16, using: &generator) {
                text += pieces.randomElement(using: &generator)!
            }
            let scalars = Array(text.unicodeScalars)
            for detector in detectors {
                var reference = String.UnicodeScalarView(), count = 0, index = 0
                while index < scalars.count {
                    let length = detector.match(in: scalars, at: index)
                    if !detector.mayStart(scalars[index]) {
                        skipped += 1
                        #expect(length == nil, "\(detector.name) matches at \(index) of '\(text)', where it may not start")
                    }
                    if let length {
                        reference.append(contentsOf: detector.replacement.unicodeScalars)
                        index += length
                        count += 1
                    } else {
                        reference.append(scalars[index])
                        index += 1
                    }
                }
                matched[detector.name, default: 0] += count
                let (redacted, found) = detector.redact(text)
                #expect(redacted == String(reference) && found == count, "\(detector.name) on '\(text)'")
                #expect(detector.found(in: text) == (count > 0), "\(detector.name) on '\(text)'")
            }
        }
        // The test means something only when both happen often, for every detector.
        #expect(skipped > 50_000, "\(skipped) positions skipped")
        for detector in detectors {
            #expect(matched[detector.name, default: 0] > 200, "\(detector.name): \(matched[detector.name, default: 0]) matches")
        }
    }
}

/// A small deterministic generator for property tests.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
