import Foundation
import Testing
import SDataCore
import SDataGovernance

/// Property: no rule ever writes a record value into a report or an error message.
struct NoValueLeakTests {
    static let marker = "ZQX-9031-leak"
    static let schema = Schema([Field(name: "a", type: .string), Field(name: "b", type: .string),
                                Field(name: "c", type: .string)])
    static var rows: [[Value]] {
        (0..<5).map { index in
            [.string("\(marker)-a\(index) 010-1234-5678"), .string("\(marker)-b"), .string("\(marker)-c\(index % 2)")]
        }
    }

    /// Rules that fail on these values; each error message must name fields and records only.
    static let failing: [any GovernanceRule] = [
        GeneralizeRule(fields: ["a"], method: .band(10)),
        GeneralizeRule(fields: ["a"], method: .decimals(2)),
        GeneralizeRule(fields: ["a"], method: .truncate(.day)),
        GeneralizeRule(fields: ["a"], method: .lookup(["x": "y"], failUnmapped: true)),
        RedactRule(fields: ["a"], detectors: ["phone"], action: .fail),
        KAnonymityRule(quasiIdentifiers: ["a"], k: 2, action: .fail),
        LDiversityRule(quasiIdentifiers: ["b"], sensitive: "b", l: 2, action: .fail),
        ExpireRule(field: "a", seconds: 86_400),
        GeoGridRule(latitude: "a", longitude: "b", cell: 100),
        TopBottomCodeRule(fields: ["a"], top: 1, bottom: nil),
    ]

    @Test(arguments: 0..<10)
    func errorsNeverQuoteValues(index: Int) throws {
        let rule = Self.failing[index]
        do {
            let plan = try GovernancePlan(rules: [rule], input: Self.schema, piiGate: .block)
            let batch = RecordBatch(schema: Self.schema, records: Self.rows)
            for pass in 0..<plan.observationPasses {
                try plan.observe(batch, pass: pass)
                plan.finishPass(pass)
            }
            _ = try plan.govern(batch)
            Issue.record("rule \(type(of: rule).name) was expected to fail")
        } catch {
            #expect(!error.message.contains(Self.marker), "\(type(of: rule).name) quoted a value")
            #expect(!error.message.contains("1234"))
        }
    }

    @Test func reportsHoldCountsOnly() throws {
        let plan = try GovernancePlan(rules: [
            PseudonymizeRule(fields: ["a"], key: Array("0123456789".utf8)),
            MaskRule(fields: ["b"], keepLast: 2),
            SuppressRule(fields: ["c"], minCount: 3),
            KAnonymityRule(quasiIdentifiers: ["c"], k: 2),
            LDiversityRule(quasiIdentifiers: ["c"], sensitive: "b", l: 1 + 1),
        ], input: Self.schema, piiGate: .warn, roles: ["a": .identifier, "b": .public, "c": .public])
        let batch = RecordBatch(schema: Self.schema, records: Self.rows)
        for pass in 0..<plan.observationPasses {
            try plan.observe(batch, pass: pass)
            plan.finishPass(pass)
        }
        _ = try plan.govern(batch)
        let report = String(decoding: try JSONEncoder().encode(plan.report), as: UTF8.self)
        #expect(!report.contains(Self.marker))
        #expect(!report.contains("5678"))
    }
}
