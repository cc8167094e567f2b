import Foundation
import Testing
import SDataCore
import SDataGovernance

/// The runner decodes only the stage positions a governance pass reads (``GovernancePlan/inputPositions(forPass:)``)
/// and gives the others as nulls. Property: for every rule list, governing records whose unread positions are null
/// publishes exactly what governing the whole records publishes, with the same report and PII-gate findings.
struct ProjectionTests {
    static let schema = Schema([
        Field(name: "name", type: .string), Field(name: "phone", type: .string), Field(name: "age", type: .integer),
        Field(name: "district", type: .string), Field(name: "note", type: .string), Field(name: "seen", type: .string),
        Field(name: "lat", type: .number), Field(name: "lon", type: .number),
    ])
    static let key = Array("projection-key".utf8)

    static let ruleLists: [(String, [any GovernanceRule])] = [
        ("select", [SelectRule(fields: ["district"])]),
        ("select after pseudonym", [PseudonymizeRule(fields: ["phone"], key: key), SelectRule(fields: ["phone", "age"])]),
        ("drop and redact", [DropRule(fields: ["name"]), RedactRule(fields: ["note"], detectors: ["phone", "rrn"])]),
        ("redact drops records", [RedactRule(fields: ["note"], detectors: ["phone"], action: .dropRow),
                                  SelectRule(fields: ["district"])]),
        ("rename then k-anonymity", [RenameRule(mapping: [("district", "area")]),
                                     GeneralizeRule(fields: ["age"], method: .band(10)),
                                     KAnonymityRule(quasiIdentifiers: ["age", "area"], k: 3),
                                     SelectRule(fields: ["area"])]),
        ("suppress and l-diversity", [SuppressRule(fields: ["district"], minCount: 4),
                                      LDiversityRule(quasiIdentifiers: ["district"], sensitive: "age", l: 2),
                                      MaskRule(fields: ["phone"], keepLast: 4), DropRule(fields: ["note", "name"])]),
        ("geo grid", [GeoGridRule(latitude: "lat", longitude: "lon", cell: 0.01), SelectRule(fields: ["lat", "district"])]),
        ("aggregate", [GeneralizeRule(fields: ["age"], method: .band(20)), AggregateRule(groupBy: ["age", "district"])]),
    ]

    static func rows(seed: UInt64) -> [[Value]] {
        var generator = SplitMix(seed: seed)
        let districts = ["강남구", "송파구", "중구", "종로구", "마포구"]
        let notes = ["", "연락처 010-1234-5678", "fine", "주민번호 900101-1234567", "call 02-555-0101"]
        return (0..<600).map { _ in
            let pick = { (count: Int) in Int(generator.next() % UInt64(count)) }
            let note = notes[pick(notes.count)]
            return [
                .string("사람\(pick(50))"), pick(7) == 0 ? .null : .string("010-\(1000 + pick(9000))-\(1000 + pick(9000))"),
                .integer(Int64(pick(90))), .string(districts[min(pick(32).trailingZeroBitCount, districts.count - 1)]),
                note.isEmpty ? .null : .string(note),
                .string("2026-11-\(10 + pick(18))"), .number(37.4 + Double(pick(2000)) / 10_000),
                .number(127.0 + Double(pick(2000)) / 10_000),
            ]
        }
    }

    /// Runs the passes as the runner does; with `project`, each pass sees only the positions the plan says it reads.
    static func govern(_ rules: [any GovernanceRule], _ rows: [[Value]], project: Bool) throws -> ([Record], Data) {
        let plan = try GovernancePlan(rules: rules, input: schema, piiGate: .warn)
        func batches(pass: Int) -> [RecordBatch] {
            let positions = project ? plan.inputPositions(forPass: pass) : nil
            let records = rows.map { row in
                guard let positions else { return row }
                return row.indices.map { positions.contains($0) ? row[$0] : .null }
            }
            return stride(from: 0, to: records.count, by: 128).map {
                RecordBatch(schema: schema, records: Array(records[$0 ..< min($0 + 128, records.count)]))
            }
        }
        for pass in 0..<plan.observationPasses {
            for batch in batches(pass: pass) { try plan.observe(batch, pass: pass) }
            plan.finishPass(pass)
        }
        var out = try batches(pass: plan.observationPasses).flatMap { try plan.govern($0).records }
        if let rows = try plan.finish() { out += rows.records }
        return (out, try JSONEncoder.sortedForTests.encode(plan.report))
    }

    @Test(arguments: ruleLists.indices)
    func projectedPassesPublishTheSame(index: Int) throws {
        let (label, rules) = Self.ruleLists[index]
        for seed in [UInt64(1), 2, 3] {
            let rows = Self.rows(seed: seed * 104_729 + UInt64(index))
            let whole = try Self.govern(rules, rows, project: false)
            let projected = try Self.govern(rules, rows, project: true)
            // Compared as booleans: a failure names the rule list without printing hundreds of records.
            let sameRecords = projected.0 == whole.0, sameReport = projected.1 == whole.1
            #expect(sameRecords, "\(label), seed \(seed): published records differ")
            #expect(sameReport, "\(label), seed \(seed): reports differ")
        }
    }

    @Test func positionsAreWhatTheRulesRead() throws {
        let select = try GovernancePlan(rules: [SelectRule(fields: ["district"])], input: Self.schema)
        #expect(select.inputPositions(forPass: 0) == [3])
        let kAnonymity = try GovernancePlan(rules: [
            PseudonymizeRule(fields: ["phone"], key: Self.key),
            KAnonymityRule(quasiIdentifiers: ["age", "district"], k: 2), DropRule(fields: ["name", "note"]),
        ], input: Self.schema)
        // The observation pass reads the quasi-identifiers only; the pseudonym does not feed it.
        #expect(kAnonymity.inputPositions(forPass: 0) == [2, 3])
        #expect(kAnonymity.inputPositions(forPass: 1) == [1, 2, 3, 5, 6, 7])
        let aggregate = try GovernancePlan(rules: [AggregateRule(groupBy: ["district"])], input: Self.schema)
        #expect(aggregate.inputPositions(forPass: 0) == nil)
    }
}

extension JSONEncoder {
    static var sortedForTests: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
