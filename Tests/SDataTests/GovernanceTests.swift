import Foundation
import Testing
import SDataCore
import SDataGovernance

struct GovernanceTests {
    static let schema = Schema([
        Field(name: "name", type: .string), Field(name: "phone", type: .string), Field(name: "age", type: .integer),
        Field(name: "district", type: .string), Field(name: "note", type: .string),
    ])

    static func batch(_ rows: [[Value]]) -> RecordBatch { RecordBatch(schema: schema, records: rows) }

    /// Runs a plan over `batches` the way the runner does: observation passes, then the final pass.
    static func govern(_ plan: GovernancePlan, _ batches: [RecordBatch]) throws -> [Record] {
        for pass in 0..<plan.observationPasses {
            for batch in batches { try plan.observe(batch, pass: pass) }
            plan.finishPass(pass)
        }
        return try batches.flatMap { try plan.govern($0).records }
    }

    @Test func pseudonymMatchesTheHMACTestVector() {
        let pseudonymizer = Pseudonymizer(key: Array("bench-key".utf8), length: 16)
        #expect(pseudonymizer.pseudonym(for: "010-1234-5678") == "0aec8f51aed86726")
        #expect(pseudonymizer.pseudonym(for: "010-1234-5678") == "0aec8f51aed86726")
        let other = Pseudonymizer(key: Array("another-key".utf8), length: 16)
        #expect(other.pseudonym(for: "010-1234-5678") != "0aec8f51aed86726")
    }

    @Test func recordRulesChangeSchemaAndValues() throws {
        let plan = try GovernancePlan(rules: [
            DropRule(fields: ["name"]),
            PseudonymizeRule(fields: ["phone"], key: Array("0123456789".utf8), length: 8),
            GeneralizeRule(fields: ["age"], method: .band(10)),
            RedactRule(fields: ["note"], detectors: ["phone", "rrn"]),
        ], input: Self.schema, piiGate: .block)
        #expect(plan.outputSchema.names == ["phone", "age", "district", "note"])
        #expect(plan.outputSchema["age"]?.type == .string)
        let out = try Self.govern(plan, [Self.batch([
            [.string("Kim"), .string("010-1111-2222"), .integer(37), .string("강남구"), .string("call 010-1111-2222")],
            [.string("Lee"), .null, .integer(-3), .string("중구"), .null],
        ])])
        #expect(out[0][1] == .string("30-39"))
        #expect(out[1][1] == .string("-10--1"))
        #expect(out[0][3] == .string("call [PHONE]"))
        #expect(out[0][0].text.count == 8)
        #expect(out[1][0] == .null)
        #expect(plan.gatePassed)
        #expect(plan.report.rules[1].stats.valuesChanged == 1)
    }

    @Test func piiGateBlocksUnredactedText() throws {
        let plan = try GovernancePlan(rules: [DropRule(fields: ["name", "phone"])], input: Self.schema, piiGate: .block)
        _ = try Self.govern(plan, [Self.batch([[.string("a"), .null, .integer(1), .string("d"),
                                                .string("주민번호 900101-1234567")]])])
        #expect(!plan.gatePassed)
        #expect(plan.report.piiGate.findings == ["note:rrn": 1])
        let reportJSON = String(decoding: try JSONEncoder().encode(plan.report), as: UTF8.self)
        #expect(!reportJSON.contains("900101"))
    }

    @Test func unknownFieldsAreNamedWithASuggestion() {
        #expect {
            _ = try GovernancePlan(rules: [DropRule(fields: ["nmae"])], input: Self.schema)
        } throws: { error in
            (error as? GovernanceError)?.message.contains("did you mean 'name'") == true
        }
    }

    /// Property: after k-anonymity every published class has at least k rows, over random data and batch splits.
    @Test(arguments: [2, 3, 5, 10])
    func everyPublishedClassHasAtLeastKRows(k: Int) throws {
        var generator = SplitMix(seed: UInt64(k) * 7919)
        let districts = ["강남구", "송파구", "중구", "종로구", "마포구", "은평구"]
        var rows: [[Value]] = []
        for _ in 0..<3000 {
            let age = Int64(generator.next() % 90)
            // A skewed district distribution makes rare classes.
            let district = districts[min(Int(generator.next() % 64).trailingZeroBitCount, districts.count - 1)]
            rows.append([.string("n"), .string("p"), .integer(age), .string(district), .null])
        }
        let plan = try GovernancePlan(rules: [
            GeneralizeRule(fields: ["age"], method: .band(20)),
            KAnonymityRule(quasiIdentifiers: ["age", "district"], k: k),
        ], input: Self.schema)
        let batches = stride(from: 0, to: rows.count, by: 257).map { Self.batch(Array(rows[$0..<min($0 + 257, rows.count)])) }
        let out = try Self.govern(plan, batches)
        var counts: [String: Int] = [:]
        for record in out { counts[record[2].text + "|" + record[3].text, default: 0] += 1 }
        #expect(counts.values.allSatisfy { $0 >= k })
        #expect(out.count + plan.report.rowsSuppressed == rows.count)
        #expect(plan.report.rules[1].stats.rowsDropped == rows.count - out.count)
        // Suppression removes only rows of small classes: recount the input to check nothing else went.
        var inputCounts: [String: Int] = [:]
        for row in rows { inputCounts["\((Int(row[2].text)! / 20) * 20)|\(row[3].text)", default: 0] += 1 }
        #expect(out.count == inputCounts.values.filter { $0 >= k }.reduce(0, +))
    }

    @Test func generalizeTruncatesAndRounds() throws {
        let schema = Schema([Field(name: "t", type: .string), Field(name: "x", type: .string)])
        let plan = try GovernancePlan(rules: [
            GeneralizeRule(fields: ["t"], method: .truncate(.hour)),
            GeneralizeRule(fields: ["x"], method: .decimals(3)),
        ], input: schema)
        let out = try plan.govern(RecordBatch(schema: schema, records: [
            [.string("2020-11-03T14:25:07+09:00"), .string("126.9995")],
        ])).records
        #expect(out[0][0].text == "2020-11-03T14:00:00+09:00")
        #expect(out[0][1].text == "126.999")
        #expect(throws: GovernanceError.self) {
            _ = try plan.govern(RecordBatch(schema: schema, records: [[.string("yesterday"), .string("1")]]))
        }
    }
}
