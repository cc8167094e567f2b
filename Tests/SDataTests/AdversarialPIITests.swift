import Foundation
import Testing
import SDataCore
import SDataGovernance
import SDataCatalog
import SDataRunner

/// Personal data disguised the ways people disguise it must still be found (ISSUE: detection that resists evasion).
struct AdversarialPIITests {
    /// One phone number, 010-2345-6789, written in adversarial forms.
    static let disguisedPhones = [
        "010-2345-6789", "01023456789", "０１０－２３４５－６７８９", "０10-23４5-6789", "010\u{200B}2345\u{200B}6789",
        "010\u{00AD}2345\u{00AD}6789", "010\u{2010}2345\u{2010}6789", "010\u{2212}2345\u{2212}6789",
        "010\u{2060}-2345-\u{FEFF}6789", "０１０２３４５６７８９", "010－2345-6789",
    ]
    static let contexts = [("", ""), ("연락처:", ""), ("", "로 연락"), ("https://x.example/?tel=", "&a=1"), ("(", ")"),
                           ("mailto:", " "), ("x", "9")]

    static func redactStep(_ detectors: [String], action: RedactRule.Action = .redact) throws -> GovernancePlan {
        try GovernancePlan(rules: [RedactRule(fields: ["note"], detectors: detectors, action: action)],
                           input: Schema([Field(name: "note", type: .string)]), piiGate: .block)
    }

    @Test func disguisedPhonesAreRedactedInEveryContext() throws {
        for phone in Self.disguisedPhones {
            for (before, after) in Self.contexts {
                let plan = try Self.redactStep(["phone"])
                let out = try plan.govern(RecordBatch(schema: plan.inputSchema, records: [[.string(before + phone + after)]]))
                let text = out.records[0][0].text
                #expect(text.contains("[PHONE]"), "not redacted: \(Array(phone.unicodeScalars).count) scalars")
                #expect(!text.contains("2345"))
                #expect(plan.gatePassed)
            }
        }
    }

    @Test(arguments: [
        ("주민번호 900101-1234567 확인", "rrn", "주민번호 [RRN] 확인"),
        ("주민번호9001011234567", "rrn", "주민번호[RRN]"),
        ("주민번호 ９００１０１－１２３４５６７", "rrn", "주민번호 [RRN]"),
        ("외국인 900101-5234567", "foreigner", "외국인 [FRN]"),
        ("사무실 02-123-4567", "landline", "사무실 [PHONE]"),
        ("지점 031)1234-5678", "landline", "지점 [PHONE]"),
        ("인터넷전화 070 1234 5678", "landline", "인터넷전화 [PHONE]"),
        ("차량 12가3456 주차", "car_plate", "차량 [PLATE] 주차"),
        ("서울123허 4567", "car_plate", "서울[PLATE]"),
        ("접속 192.168.10.254 기록", "ip_address", "접속 [IP] 기록"),
        ("v6 2001:db8::8a2e:370:7334 끝", "ip_address", "v6 [IP] 끝"),
        ("loopback ::1", "ip_address", "loopback [IP]"),
        ("full 2001:0db8:85a3:0000:0000:8a2e:0370:7334", "ip_address", "full [IP]"),
        ("옛 번호 011-234-5678", "mobile", "옛 번호 [PHONE]"),
        ("옛 번호 019１２３４５６７８", "mobile", "옛 번호 [PHONE]"),
        ("새 번호 010-1234-5678", "mobile", "새 번호 [PHONE]"),
        ("메일 kim\u{200B}@seoul.go.kr", "email", "메일 [EMAIL]"),
    ])
    func detectorsFindTheirKind(input: String, detector: String, expected: String) throws {
        let plan = try Self.redactStep([detector])
        let out = try plan.govern(RecordBatch(schema: plan.inputSchema, records: [[.string(input)]]))
        #expect(out.records[0][0].text == expected)
    }

    @Test(arguments: ["15,000원", "체온 36.5도", "1577-1234", "2020.11.03", "v1.2.3", "123456-12345", "12:30:45",
                      "std::vector", "012-345-6789"])
    func ordinaryTextIsLeftAlone(input: String) throws {
        let plan = try Self.redactStep(["phone", "mobile", "landline", "rrn", "email", "car_plate", "ip_address"])
        let out = try plan.govern(RecordBatch(schema: plan.inputSchema, records: [[.string(input)]]))
        #expect(out.records[0][0].text == input)
        #expect(plan.gatePassed)
    }

    @Test func theGateFindsDisguisedNumbersLeftInText() throws {
        for phone in Self.disguisedPhones {
            let plan = try GovernancePlan(rules: [], input: Schema([Field(name: "note", type: .string)]), piiGate: .block)
            _ = try plan.govern(RecordBatch(schema: plan.inputSchema, records: [[.string("연락 " + phone)]]))
            #expect(!plan.gatePassed, "the gate missed a disguised phone")
        }
    }

    /// Forms that only compatibility normalization (NFKC) turns into something a detector matches: the gate's quick
    /// pre-check must not rule them out (circled, mathematical and superscript digits, a full-width `＠`, `：`, `．`).
    @Test(arguments: ["연락 ⓪①⓪-②③④⑤-⑥⑦⑧⑨", "𝟎𝟏𝟎𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗", "메일 a＠example.org", "주소 fe80：：1",
                      "IP 192．168．0．12", "⁰¹⁰²³⁴⁵⁶⁷⁸⁹"])
    func theGateFindsCompatibilityForms(text: String) throws {
        let plan = try GovernancePlan(rules: [], input: Schema([Field(name: "note", type: .string)]), piiGate: .block)
        _ = try plan.govern(RecordBatch(schema: plan.inputSchema, records: [[.string(text)]]))
        #expect(!plan.gatePassed, "the gate missed '\(text)'")
    }

    @Test func theGateCanSuppressRecordsInsteadOfBlocking() throws {
        let plan = try GovernancePlan(rules: [], input: Schema([Field(name: "note", type: .string)]), piiGate: .suppress)
        let out = try plan.govern(RecordBatch(schema: plan.inputSchema, records: [
            [.string("괜찮음")], [.string("연락 ０１０－１２３４－５６７８")], [.string("메일 a.b@example.org")],
        ]))
        #expect(out.records == [[.string("괜찮음")]])
        #expect(plan.gatePassed)
        #expect(plan.report.piiGate.rowsSuppressed == 2)
        #expect(plan.report.rowsSuppressed == 2)
    }

    @Test func onMatchCanDropTheRowOrFailTheRun() throws {
        let drop = try Self.redactStep(["phone"], action: .dropRow)
        let kept = try drop.govern(RecordBatch(schema: drop.inputSchema, records: [[.string("ok")], [.string("010-1234-5678")]]))
        #expect(kept.records.count == 1)
        #expect(drop.report.rules[0].stats.rowsDropped == 1)
        let fail = try Self.redactStep(["phone"], action: .fail)
        #expect {
            _ = try fail.govern(RecordBatch(schema: fail.inputSchema, records: [[.string("call ０１０1234５678")]]))
        } throws: { error in
            let message = (error as? GovernanceError)?.message ?? ""
            return message.contains("field 'note' of record 1") && !message.contains("1234")
        }
    }

    /// A planted phone in any adversarial form, in a sensitive pipeline's free text, never reaches `public/`.
    @Test func plantedPhonesNeverReachPublicFiles() async throws {
        let project = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: project) }
        var lines = ["id,district,note"]
        var index = 0
        for phone in Self.disguisedPhones {
            for (before, after) in Self.contexts {
                index += 1
                let note = (before + phone + after).replacingOccurrences(of: "\"", with: "\"\"")
                lines.append("\(index),강남구,\"\(note)\"")
            }
        }
        try TestSupport.write(lines.joined(separator: "\n") + "\n", to: project + "/notes.csv")
        try TestSupport.write("""
            id: notes
            source: { plugin: file, with: { path: notes.csv } }
            governance:
              classification: sensitive
              rules:
                - redact: { field: note, detect: [phone, landline, rrn, email] }
                - k_anonymity: { quasi_identifiers: [district], k: 2 }
              roles: { id: public, district: quasi_identifier, note: free_text }
            """, to: project + "/notes.yaml")
        let catalog = try Catalog.open(root: project + "/catalog")
        let summary = await TestSupport.runner(catalog).run(try TestSupport.spec(project + "/notes.yaml"))
        #expect(summary.run.status == .published, "\(summary.run.error ?? "")")
        #expect(summary.run.rowsOut == index)
        let published = TestSupport.allText(under: project + "/catalog/public")
        let digitsOnly = String(TextNormalizer.normalize(published).unicodeScalars.filter {
            ("0"..."9").contains($0) || $0 == "\n" || $0 == ","
        }.map(Character.init))
        #expect(!digitsOnly.contains("23456789"))
        #expect(!published.contains("2345"))
    }
}
