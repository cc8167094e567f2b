import Foundation
import Testing
import SDataCore
import SDataCatalog
import SDataRunner
@testable import SDataGovernance

/// Aggregates with differential-privacy noise, and the privacy-budget ledger that refuses releases past the budget.
@Suite(.serialized)
struct PrivacyBudgetTests {
    @Test func laplaceNoiseHasTheRightScale() {
        var generator = KeyedNoise(key: Array("a-test-key-123".utf8), seed: "cell")
        let samples = (0..<20_000).map { _ in Laplace.sample(scale: 2, using: &generator) }
        let mean = samples.reduce(0, +) / Double(samples.count)
        let meanAbsolute = samples.map(abs).reduce(0, +) / Double(samples.count)
        #expect(abs(mean) < 0.1)
        #expect(abs(meanAbsolute - 2) < 0.1, "E|X| of Laplace(b) is b")
        var again = KeyedNoise(key: Array("a-test-key-123".utf8), seed: "cell")
        #expect(Laplace.sample(scale: 2, using: &again) == samples[0])
        var other = KeyedNoise(key: Array("another-key-456".utf8), seed: "cell")
        #expect(Laplace.sample(scale: 2, using: &other) != samples[0])
    }

    @Test func smallCellsAreNotPublished() throws {
        let schema = Schema([Field(name: "district", type: .string)])
        let rows: [[Value]] = Array(repeating: [.string("a")], count: 30) + Array(repeating: [.string("b")], count: 3)
        let plan = try GovernancePlan(rules: [AggregateRule(groupBy: ["district"], minCount: 10)], input: schema)
        _ = try plan.govern(RecordBatch(schema: schema, records: rows))
        let out = try #require(try plan.finish())
        #expect(out.records == [[.string("a"), .integer(30)]])
        #expect(plan.report.rules[0].details?["cells_suppressed"] == 1)
        #expect(plan.outputSchema.names == ["district", "count"])
        let strict = try GovernancePlan(rules: [AggregateRule(groupBy: ["district"], minCount: 10, action: .fail)],
                                        input: schema)
        _ = try strict.govern(RecordBatch(schema: schema, records: rows))
        #expect(throws: GovernanceError.self) { _ = try strict.finish() }
    }

    /// Releases spend ε; once the budget is spent the next release is refused and nothing is published; unchanged
    /// data publishes nothing and spends nothing.
    @Test func aReleasePastTheBudgetIsRefused() async throws {
        let project = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: project) }
        try TestSupport.write("""
            id: counts
            source: { plugin: file, with: { path: data.csv } }
            governance:
              classification: sensitive
              rules:
                - aggregate: { group_by: [district], noise: { epsilon: 1, budget: 2.5, key: "${secret:NOISE}" } }
              roles: { district: public, count: public }
            """, to: project + "/counts.yaml")
        let catalog = try Catalog.open(root: project + "/catalog")
        let spec = try TestSupport.spec(project + "/counts.yaml", environment: ["SDATA_SECRET_NOISE": "noise-key-0123"])
        func release(_ rows: Int) async throws -> RunSummary {
            try TestSupport.write("district\n" + String(repeating: "강남구\n", count: rows), to: project + "/data.csv")
            return await TestSupport.runner(catalog).run(spec)
        }
        #expect(try await release(100).run.status == .published)
        #expect(try await release(100).run.status == .unchanged)
        #expect(try await release(120).run.status == .published)
        #expect(try await catalog.store.privacySpent(dataset: "counts") == 2)
        let refused = try await release(140)
        #expect(refused.run.status == .failed)
        #expect(refused.run.error?.contains("privacy budget exhausted") == true)
        #expect(try await catalog.store.versions(dataset: "counts").count == 2)
        #expect(try await catalog.store.privacySpent(dataset: "counts") == 2)
        let report = try TestSupport.read(catalog.layout.datasetDirectory("counts") + "/latest/governance.json")
        #expect(report.contains("\"remaining\" : 0.5"))
        #expect(try await catalog.store.auditLog().filter { $0.kind == "privacy.charged" }.count == 2)
    }
}
