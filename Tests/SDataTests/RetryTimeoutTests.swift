import Foundation
import Testing
import SDataCore
import SDataCatalog
import SDataRunner
import SDataSpec

/// Failed runs are retried as the spec says; a run past its timeout is stopped and publishes nothing.
@Suite(.serialized)
struct RetryTimeoutTests {
    @Test func failedRunsAreRetried() async throws {
        let project = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: project) }
        try TestSupport.write("id: flaky\nretries: 2\nretry_delay: 1s\nsource: { plugin: file, with: { path: missing.csv } }\n",
                              to: project + "/flaky.yaml")
        let spec = try TestSupport.spec(project + "/flaky.yaml")
        #expect(spec.operations.retries == 2)
        let catalog = try Catalog.open(root: project + "/catalog")
        var options = PipelineRunner.Options()
        options.retryDelayOverride = 0.01
        let runner = PipelineRunner(catalog: catalog, redactor: SecretRedactor(), logger: TestSupport.runner(catalog).logger,
                                    options: options)
        let summary = await runner.run(spec)
        #expect(summary.run.status == .failed)
        let runs = try await catalog.store.runs(pipeline: "flaky", limit: 10)
        #expect(runs.count == 3)
        #expect(runs.allSatisfy { $0.status == .failed && $0.error?.contains("cannot open") == true })
    }

    @Test func aRunPastItsTimeoutIsStopped() async throws {
        let project = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: project) }
        var text = "id,value\n"
        for row in 0..<400_000 { text += "\(row),v\(row)\n" }
        try TestSupport.write(text, to: project + "/big.csv")
        try TestSupport.write("id: slow\ntimeout: 1s\nsource: { plugin: file, with: { path: big.csv } }\n",
                              to: project + "/slow.yaml")
        let catalog = try Catalog.open(root: project + "/catalog")
        let started = Date()
        let summary = await TestSupport.runner(catalog, batchSize: 256).run(try TestSupport.spec(project + "/slow.yaml"))
        #expect(summary.run.status == .failed)
        #expect(summary.run.error?.contains("timeout of 1 s") == true, "\(summary.run.error ?? "")")
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(try await catalog.store.versions(dataset: "slow").isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: catalog.layout.draftsDirectory)
            .filter { !$0.hasSuffix(".lock") }.isEmpty)
        #expect(try await catalog.store.rawExtracts().allSatisfy { !$0.hasKey })
    }

    @Test func operationsKeysAreValidated() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let diagnostics = try TestSupport.diagnostics("""
            id: x
            retries: many
            timeout: 2 hours
            source: { plugin: file, with: { path: a.csv } }
            """, in: directory)
        #expect(diagnostics.map { $0.location?.line ?? 0 } == [2, 3])
    }
}
