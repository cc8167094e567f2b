import Foundation
import Testing
import SDataCore
import SDataSpec
import SDataCatalog
import SDataRunner
import SDataGovernance

/// The whole path on real files and a real SQLite catalog: spec → run → published, checksummed version.
@Suite(.serialized)
struct EndToEndTests {
    static let tracingKey = ["SDATA_SECRET_TRACING_KEY": "end-to-end-test-key"]

    /// Copies the example pipelines and their samples into a fresh project folder.
    static func exampleProject() throws -> String {
        let directory = try TestSupport.temporaryDirectory()
        try FileManager.default.copyItem(atPath: TestSupport.packageRoot + "/pipelines", toPath: directory + "/pipelines")
        try FileManager.default.createDirectory(atPath: directory + "/catalog", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: TestSupport.packageRoot + "/catalog/catalog.yaml",
                                         toPath: directory + "/catalog/catalog.yaml")
        return directory
    }

    static func runAll(_ project: String, redactor: SecretRedactor = SecretRedactor()) async throws -> [RunSummary] {
        let catalog = try Catalog.open(root: project + "/catalog")
        let runner = TestSupport.runner(catalog, redactor: redactor, batchSize: 100)
        var summaries: [RunSummary] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: project + "/pipelines").sorted()
        where file.hasSuffix(".yaml") {
            let spec = try TestSupport.spec(project + "/pipelines/" + file, environment: tracingKey, redactor: redactor)
            summaries.append(await runner.run(spec))
        }
        return summaries
    }

    @Test func examplesPublishOnceAndThenAreUnchanged() async throws {
        let project = try Self.exampleProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let first = try await Self.runAll(project)
        #expect(first.count == 5)
        for summary in first {
            #expect(summary.run.status == .published, "\(summary.run.pipeline): \(summary.run.error ?? "")")
            #expect(summary.run.version == 1)
        }
        let second = try await Self.runAll(project)
        #expect(second.allSatisfy { $0.run.status == .unchanged && $0.run.version == 1 })

        let catalog = try Catalog.open(root: project + "/catalog")
        for summary in first {
            let version = try #require(try await catalog.store.latestVersion(dataset: summary.run.pipeline))
            #expect(version.number == 1)
            for distribution in version.distributions {
                let data = try Data(contentsOf: URL(fileURLWithPath: catalog.layout.publicDirectory + "/" + distribution.path))
                #expect(data.count == distribution.bytes)
                #expect(Hex.string(SHA256Digest.of(data)) == distribution.sha256)
            }
            let latest = catalog.layout.datasetDirectory(summary.run.pipeline) + "/latest/datapackage.json"
            #expect(FileManager.default.fileExists(atPath: latest))
        }
        #expect(FileManager.default.fileExists(atPath: catalog.layout.publicDirectory + "/index.html"))
        let runs = try await catalog.store.runs(pipeline: nil, limit: 100)
        #expect(runs.count == 10)
    }

    @Test func frictionlessAcceptsEveryPublishedPackage() async throws {
        guard let frictionless = TestSupport.frictionless else {
            if ProcessInfo.processInfo.environment["CI"] != nil {
                Issue.record("frictionless is not installed; .ci/run installs it")
            }
            return
        }
        let project = try Self.exampleProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        _ = try await Self.runAll(project)
        let datasets = project + "/catalog/public/datasets"
        for dataset in try FileManager.default.contentsOfDirectory(atPath: datasets) {
            for version in ["1", "latest"] {
                let package = "\(datasets)/\(dataset)/\(version)/datapackage.json"
                let result = try TestSupport.execute(frictionless, ["validate", package])
                #expect(result.status == 0, "\(package):\n\(result.stdout)\n\(result.stderr)")
            }
        }
        // The check can fail: a distribution changed after publication no longer matches its checksum.
        let tampered = "\(datasets)/seoul-covid19-daily/1/seoul-covid19-daily.csv"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: tampered))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("2022-03-03,1,1,1,1,1,1\n".utf8))
        try handle.close()
        let result = try TestSupport.execute(frictionless, ["validate", "\(datasets)/seoul-covid19-daily/1/datapackage.json"])
        #expect(result.status != 0)
    }

    /// pycanon, an independent implementation, confirms the published tracing dataset is k-anonymous for the
    /// quasi-identifiers its spec declares.
    @Test func pycanonConfirmsTheTracingExampleIsKAnonymous() async throws {
        guard let python = ProcessInfo.processInfo.environment["PYCANON_PYTHON"] else {
            if ProcessInfo.processInfo.environment["CI"] != nil {
                Issue.record("PYCANON_PYTHON is not set; scripts/test.sh installs pycanon")
            }
            return
        }
        let project = try Self.exampleProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        _ = try await Self.runAll(project)
        let spec = try TestSupport.spec(project + "/pipelines/seoul-tracing-visits.yaml", environment: Self.tracingKey)
        let rule = try #require(spec.governance.rules.compactMap { $0 as? KAnonymityRule }.first)
        let csv = project + "/catalog/public/datasets/seoul-tracing-visits/latest/seoul-tracing-visits.csv"
        let script = TestSupport.packageRoot + "/scripts/check_k_anonymity.py"
        let check = try TestSupport.execute(python, [script, csv, String(rule.k)] + rule.quasiIdentifiers)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("pycanon measures k ="))
        // The check can fail: with a position added to the quasi-identifiers, classes are tiny.
        let stricter = try TestSupport.execute(python, [script, csv, String(rule.k)] + rule.quasiIdentifiers + ["lat", "lon"])
        #expect(stricter.status == 1)
    }

    @Test func noPersonalDataReachesPublicFilesOrLogs() async throws {
        let project = try Self.exampleProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let result = try TestSupport.execute(TestSupport.sdataBinary, ["run", "--all", "--log-level", "debug"],
                                             in: project, environment: Self.tracingKey)
        #expect(result.status == 0, "\(result.stderr)")
        let published = TestSupport.allText(under: project + "/catalog/public")
        let runLogs = TestSupport.allText(under: project + "/catalog/logs")
        #expect(runLogs.contains("run finished"))
        let logs = result.stdout + result.stderr + runLogs
        let sample = try TestSupport.read(project + "/pipelines/samples/tracing-events.csv")
        var needles = Set<String>()
        for line in sample.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            needles.insert(String(fields[1]))  // name
            needles.insert(String(fields[2]))  // resident number
            needles.insert(String(fields[3]))  // phone
            needles.insert(fields[3].replacingOccurrences(of: "-", with: ""))
        }
        #expect(needles.count > 500)
        // Byte search: String.contains is Unicode-aware and too slow for a thousand needles over megabytes.
        let haystacks = [Data(published.utf8), Data(logs.utf8)]
        let leaked = needles.filter { needle in haystacks.contains { $0.range(of: Data(needle.utf8)) != nil } }
        #expect(leaked.isEmpty, "\(leaked.count) personal values leaked")
        #expect(!logs.contains("end-to-end-test-key"))
        #expect(!published.contains("end-to-end-test-key"))
        // The sensitive pipeline's raw extract does not stay on disk.
        let raw = try FileManager.default.contentsOfDirectory(atPath: project + "/catalog/raw")
        for run in raw {
            let stage = TestSupport.allText(under: project + "/catalog/raw/" + run)
            #expect(!needles.contains { stage.contains($0) })
        }
    }

    @Test func aSourceFailingHalfWayPublishesNothing() async throws {
        let project = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let data = project + "/pipelines/data.csv"
        let rows = (1...500).map { "\($0),district-\($0 % 7),\($0 * 3)" }
        try TestSupport.write("id,district,count\n" + rows.joined(separator: "\n") + "\n", to: data)
        try TestSupport.write("""
            id: counts
            source: { plugin: file, with: { path: data.csv } }
            schema:
              fields: [{ name: id, type: integer }, { name: count, type: integer }]
            """, to: project + "/pipelines/counts.yaml")
        let catalog = try Catalog.open(root: project + "/catalog")
        let runner = TestSupport.runner(catalog, batchSize: 50)
        let spec = try TestSupport.spec(project + "/pipelines/counts.yaml")
        let good = await runner.run(spec)
        #expect(good.run.status == .published)
        let published = try TestSupport.read(project + "/catalog/public/datasets/counts/1/counts.csv")

        // The same file cut off in the middle of a record, with new content before the cut.
        let truncated = "id,district,count\n" + rows.map { $0 + "0" }.joined(separator: "\n")
        try TestSupport.write(String(truncated.prefix(truncated.count * 2 / 3)), to: data)
        let failed = await runner.run(spec)
        #expect(failed.run.status == .failed)
        let reason = try #require(failed.run.error)
        #expect(reason.contains("data.csv:"))
        #expect(reason.contains("fields"))
        #expect(try await catalog.store.versions(dataset: "counts").count == 1)
        #expect(try TestSupport.read(project + "/catalog/public/datasets/counts/latest/counts.csv") == published)
        #expect(try FileManager.default.contentsOfDirectory(atPath: project + "/catalog/public/datasets/counts").sorted()
                == ["1", "index.html", "latest"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: catalog.layout.draftsDirectory)
            .filter { !$0.hasSuffix(".lock") }.isEmpty)
        let recorded = try await catalog.store.runs(pipeline: "counts", limit: 1)
        #expect(recorded.first?.status == .failed)
        #expect(recorded.first?.error == reason)
    }

    @Test func changedContentPublishesANewVersionAndLatestMoves() async throws {
        let project = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: project) }
        try TestSupport.write("a,b\n1,2\n", to: project + "/data.csv")
        try TestSupport.write("id: small\nsource: { plugin: file, with: { path: data.csv } }\n", to: project + "/small.yaml")
        let catalog = try Catalog.open(root: project + "/catalog")
        let runner = TestSupport.runner(catalog)
        let spec = try TestSupport.spec(project + "/small.yaml")
        #expect(await runner.run(spec).run.version == 1)
        try TestSupport.write("a,b\n1,2\n3,4\n", to: project + "/data.csv")
        let second = await runner.run(spec)
        #expect(second.run.status == .published)
        #expect(second.run.version == 2)
        #expect(try TestSupport.read(catalog.layout.datasetDirectory("small") + "/latest/small.csv") == "a,b\n1,2\n3,4\n")
        #expect(try TestSupport.read(catalog.layout.datasetDirectory("small") + "/1/small.csv") == "a,b\n1,2\n")
        let dry = await TestSupport.runner(catalog, dryRun: true).run(spec)
        #expect(dry.run.status == .dryRun)
        #expect(try await catalog.store.versions(dataset: "small").count == 2)
    }

    @Test func interruptedStateIsRecovered() async throws {
        let project = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: project) }
        try TestSupport.write("a\n1\n", to: project + "/data.csv")
        try TestSupport.write("id: small\nsource: { plugin: file, with: { path: data.csv } }\n", to: project + "/small.yaml")
        let catalog = try Catalog.open(root: project + "/catalog")
        _ = await TestSupport.runner(catalog).run(try TestSupport.spec(project + "/small.yaml"))
        // What a killed process leaves: a run still marked running, a draft, a version folder never committed.
        try await catalog.store.beginRun(RunRecord(id: "killed", pipeline: "small", startedAt: Date(), specHash: "x"))
        try TestSupport.write("partial", to: catalog.layout.draftsDirectory + "/killed/small.csv")
        try TestSupport.write("partial", to: catalog.layout.versionDirectory("small", 2) + "/small.csv")
        // A dump whose process died long ago, and what another process is doing now: a run holding its lease with
        // its draft, and a dump being written.
        let drafts = catalog.layout.draftsDirectory
        try TestSupport.write("zip", to: drafts + "/dump-abandoned.zip")
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-3600)],
                                              ofItemAtPath: drafts + "/dump-abandoned.zip")
        try TestSupport.write("zip", to: drafts + "/dump-growing.zip")
        #expect(try await catalog.store.acquireLease("pipeline:other", holder: "elsewhere", ttl: 60, now: Date()))
        try await catalog.store.beginRun(RunRecord(id: "alive", pipeline: "other", startedAt: Date(), specHash: "x"))
        try TestSupport.write("partial", to: drafts + "/alive/other.csv")
        let repaired = try await catalog.recover()
        #expect(repaired.count == 4, "\(repaired)")
        #expect(try await catalog.store.runs(pipeline: "small", limit: 5).first { $0.id == "killed" }?.status == .failed)
        #expect(!FileManager.default.fileExists(atPath: catalog.layout.versionDirectory("small", 2)))
        #expect(!FileManager.default.fileExists(atPath: drafts + "/killed"))
        #expect(!FileManager.default.fileExists(atPath: drafts + "/dump-abandoned.zip"))
        #expect(FileManager.default.fileExists(atPath: drafts + "/dump-growing.zip"))
        #expect(FileManager.default.fileExists(atPath: drafts + "/alive/other.csv"))
        #expect(try await catalog.store.runningRuns().map(\.id) == ["alive"])
        #expect(try await catalog.recover().isEmpty)
    }

    /// The governance rules reproduce the tracing-publish reference output byte for byte (WORKLOAD.md, edge fixture).
    @Test func tracingWorkloadMatchesTheReferenceOutput() async throws {
        let project = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let spec = try TestSupport.spec(TestSupport.packageRoot + "/bench/tracing-publish.yaml", environment: [
            "TRACING_INPUT": TestSupport.fixtures + "/edge_input.csv", "SDATA_SECRET_BENCH_KEY": "bench-key",
        ])
        let catalog = try Catalog.open(root: project + "/catalog")
        let summary = await TestSupport.runner(catalog, batchSize: 4).run(spec)
        #expect(summary.run.status == .published, "\(summary.run.error ?? "")")
        let output = try Data(contentsOf: URL(fileURLWithPath: catalog.layout.datasetDirectory("tracing-publish")
            + "/latest/tracing-publish.csv"))
        let expected = try Data(contentsOf: URL(fileURLWithPath: TestSupport.fixtures + "/edge_expected.csv"))
        #expect(output == expected)
    }
}
