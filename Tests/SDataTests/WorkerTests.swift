import Foundation
import Testing
import SDataCatalog
import SDataCore

/// Several `sdata worker` processes sharing one store: the night's schedule split between them with nothing done
/// twice or lost, a worker killed mid-run taken over, and the result equal to what one machine produces.
@Suite(.serialized) struct WorkerTests {
    /// A project with `count` scheduled pipelines reading small CSV files (each a little different).
    static func project(pipelines count: Int) throws -> String {
        let directory = try TestSupport.temporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory + "/catalog", withIntermediateDirectories: true)
        for index in 1...count {
            var csv = "id,district,cases\n"
            for row in 1...(20 + index) { csv += "\(row),district-\(row % 7),\(row * index % 97)\n" }
            try TestSupport.write(csv, to: directory + "/pipelines/data/d\(index).csv")
            try TestSupport.write("""
                id: nightly-\(index)
                schedule: "0 3 * * *"
                timezone: Asia/Seoul
                source:
                  plugin: file
                  with: { path: data/d\(index).csv }
                schema:
                  fields:
                    - { name: id, type: integer }
                    - { name: cases, type: integer }
                  primary_key: [id]
                publish:
                  license: CC-BY-4.0
                  formats: [csv, json, parquet]
                """, to: directory + "/pipelines/nightly-\(index).yaml")
        }
        return directory
    }

    static func openCatalog(_ directory: String, store: String) throws -> Catalog {
        try Catalog.open(root: directory + "/catalog", environment: ["SDATA_STORE": store])
    }

    @Test(arguments: StoreBackend.available)
    func threeWorkersDrainFiftyDueRunsWithNoDuplicateAndNoLoss(_ backend: StoreBackend) async throws {
        let directory = try Self.project(pipelines: 50)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try backend.freshLocation()
        defer { StoreBackend.dispose(store) }
        let environment = ["SDATA_STORE": store]
        let workers = try (1...3).map { index in
            try SchedulerTests.start(["worker", "--drain", "--tick", "1s", "--concurrency", "2", "--log-level", "info"],
                                     in: directory, name: "worker-\(index)", environment: environment)
        }
        for (index, worker) in workers.enumerated() {
            let exited = await SchedulerTests.waitForExit(worker, seconds: 240)
            if !exited { worker.terminate() }
            #expect(exited, "each worker drains the queue and exits")
            #expect(worker.terminationStatus == 0,
                    "\((try? TestSupport.read(directory + "/worker-\(index + 1).log"))?.suffix(1500) ?? "")")
        }
        let catalog = try Self.openCatalog(directory, store: store)
        let queue = try await catalog.store.queuedRuns(pipeline: nil, limit: 1000)
        #expect(queue.count == 50, "one queue entry per due pipeline, though three workers planned it")
        #expect(queue.allSatisfy { $0.state == .done && $0.attempts == 1 && $0.outcome == "published" },
                "\(queue.filter { $0.state != .done }.map { "\($0.pipeline) \($0.state) \($0.outcome ?? "")" })")
        let runs = try await catalog.store.runs(pipeline: nil, limit: 1000)
        #expect(runs.count == 50, "exactly one run per pipeline: no duplicate")
        #expect(Set(runs.map(\.pipeline)).count == 50, "and none lost")
        #expect(runs.allSatisfy { $0.status == .published })
        #expect(Set(queue.compactMap(\.runId)) == Set(runs.map(\.id)), "every entry names the run that served it")
        #expect(Set(queue.compactMap(\.worker)).count >= 2, "the workers shared the work")
        for index in 1...50 {
            #expect(try await catalog.store.versions(dataset: "nightly-\(index)").count == 1)
        }
        #expect(try await catalog.store.leases().isEmpty, "every lease released")
        #expect(AuditVerifier.verify(try await catalog.store.auditLog()).isEmpty)

        // The same specs run by one process on the embedded store give the same content, dataset by dataset.
        let single = try Self.project(pipelines: 50)
        defer { try? FileManager.default.removeItem(atPath: single) }
        let result = try await SourceRunTests.sdata(["run", "--all"], in: single)
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")
        let alone = try Catalog.open(root: single + "/catalog")
        for index in 1...50 {
            let shared = try await catalog.store.latestVersion(dataset: "nightly-\(index)")?.contentHash
            let local = try await alone.store.latestVersion(dataset: "nightly-\(index)")?.contentHash
            #expect(shared != nil && shared == local, "nightly-\(index) differs from a one-machine run")
        }
    }

    @Test(arguments: StoreBackend.available)
    func aWorkerKilledMidRunIsTakenOverAndPublishesNothingItself(_ backend: StoreBackend) async throws {
        // A schedule that does not fire again during the test: the pipeline never ran, so its first run is due at
        // once. Every minute, a minute boundary passing between the doomed worker's start and its death made it
        // queue a second firing, which the successor then drained too (two versions, the "flaky" failure).
        let directory = try SchedulerTests.project(pipelines: 1, seconds: 30, schedule: "0 0 1 1 *")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try backend.freshLocation()
        defer { StoreBackend.dispose(store) }
        let environment = ["SDATA_STORE": store]
        let catalog = try Self.openCatalog(directory, store: store)
        let doomed = try SchedulerTests.start(["worker", "--tick", "1s", "--lease-ttl", "3s"], in: directory,
                                              name: "doomed", environment: environment)
        #expect(try await SchedulerTests.waitUntil(30) { try await !catalog.store.runningRuns().isEmpty })
        let dead = try #require(try await catalog.store.runningRuns().first)
        kill(doomed.processIdentifier, SIGKILL)
        doomed.waitUntilExit()
        let killedAt = Date()

        // The survivor plans nothing new (the firing is queued already) and takes the claim over once it is stale.
        let successor = try SchedulerTests.start(["worker", "--drain", "--no-plan", "--tick", "1s", "--lease-ttl", "3s"], in: directory,
                                                 name: "successor", environment: environment)
        let taken = try await SchedulerTests.waitUntil(30) {
            try await catalog.store.queuedRuns(pipeline: "slow-1", limit: 1).first?.attempts == 2
        }
        #expect(taken, "another worker took the run over")
        #expect(Date().timeIntervalSince(killedAt) < 15, "within the lease TTL and a tick or two")
        let finished = await SchedulerTests.waitForExit(successor, seconds: 90)
        if !finished { successor.terminate() }
        #expect(finished && successor.terminationStatus == 0, "\((try? TestSupport.read(directory + "/successor.log"))?.suffix(2000) ?? "")")

        let entry = try #require(try await catalog.store.queuedRuns(pipeline: "slow-1", limit: 10).first)
        #expect(entry.state == .done && entry.attempts == 2 && entry.outcome == "published")
        let runs = try await catalog.store.runs(pipeline: "slow-1", limit: 10)
        let deadRun = try #require(runs.first { $0.id == dead.id })
        #expect(deadRun.status == .failed && deadRun.error?.contains("stale") == true, "\(deadRun.error ?? "")")
        let versions = try await catalog.store.versions(dataset: "slow-1")
        #expect(versions.count == 1 && versions.first?.runId == entry.runId, "only the successor's run published")
        #expect(versions.first?.runId != dead.id)
        #expect(!FileManager.default.fileExists(atPath: directory + "/catalog/.drafts/" + dead.id), "the dead draft is gone")
        let log = try TestSupport.read(directory + "/successor.log")
        #expect(log.contains("taking over a run whose worker stopped heartbeating"))
    }

    @Test(arguments: StoreBackend.available)
    func migrationRoundTripKeepsEveryRowAndTheAuditChain(_ backend: StoreBackend) async throws {
        guard backend == .postgres else { return }  // SQLite → PostgreSQL → SQLite
        let project = try EndToEndTests.exampleProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let run = try await SourceRunTests.sdata(["run", "--all"], in: project, environment: EndToEndTests.tracingKey)
        #expect(run.status == 0, "\(run.stderr.suffix(2000))")
        let original = project + "/catalog/state.sqlite"
        let postgres = try backend.freshLocation()
        defer { StoreBackend.dispose(postgres) }

        let there = try await SourceRunTests.sdata(["store", "migrate", "--to", postgres], in: project)
        #expect(there.status == 0, "\(there.stdout)\(there.stderr)")
        #expect(there.stdout.contains("audit chain: intact") && there.stdout.contains("every table matches"), "\(there.stdout)")
        #expect(!there.stdout.contains("MISMATCH"))

        // The catalog now runs on PostgreSQL: same listing, audit verifies, and a new run publishes there.
        let onPostgres = ["SDATA_STORE": postgres]
        let listSQLite = try await SourceRunTests.sdata(["catalog", "list", "--json"], in: project)
        let listPostgres = try await SourceRunTests.sdata(["catalog", "list", "--json"], in: project, environment: onPostgres)
        #expect(listSQLite.status == 0 && listSQLite.stdout == listPostgres.stdout)
        let verify = try await SourceRunTests.sdata(["audit", "verify"], in: project, environment: onPostgres)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")

        // Migrating into a store that already holds a catalog is refused.
        let again = try await SourceRunTests.sdata(["store", "migrate", "--to", postgres], in: project)
        #expect(again.status == 1 && again.stderr.contains("already holds a catalog"), "\(again.stderr)")

        // And back: every table's rows equal the original's, checksum for checksum.
        let back = project + "/roundtrip.sqlite"
        let home = try await SourceRunTests.sdata(["store", "migrate", "--from", postgres, "--to", "sqlite:" + back, "--json"],
                                                  in: project)
        #expect(home.status == 0, "\(home.stdout)\(home.stderr)")
        let first = try SQLiteCatalogStore(path: original)
        let returned = try SQLiteCatalogStore(path: back)
        for table in StoreTable.all {
            let before = try await first.exportRows(table)
            let after = try await returned.exportRows(table)
            #expect(before.count == after.count && StoreTable.checksum(before) == StoreTable.checksum(after),
                    "\(table.name) changed in the round trip")
        }
        #expect(try await first.auditLog() == returned.auditLog())
        #expect(try await returned.versions(dataset: "seoul-covid19-daily") == first.versions(dataset: "seoul-covid19-daily"))
    }

    @Test(arguments: StoreBackend.available)
    func publicationsAtOnceAreAtomicAndSerializedPerDatasetOnSharedArtifacts(_ backend: StoreBackend) async throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let shared = directory + "/shared"
        try TestSupport.write("""
            title: Shared
            artifacts: { kind: shared, path: \(shared) }
            """, to: directory + "/catalog/catalog.yaml")
        // Two pipelines publish one dataset, two others a dataset each: four processes at once.
        let targets = ["same-a": "same", "same-b": "same", "other-b": "other-b", "other-c": "other-c"]
        for (index, (id, dataset)) in targets.sorted(by: { $0.key < $1.key }).enumerated() {
            var csv = "id,value\n"
            for row in 1...2000 { csv += "\(row),\(row * (index + 3))\n" }
            try TestSupport.write(csv, to: directory + "/pipelines/\(id).csv")
            try TestSupport.write("""
                id: \(id)
                source: { plugin: file, with: { path: \(id).csv } }
                publish: { dataset: \(dataset), license: CC0-1.0, formats: [csv, json, parquet, xlsx] }
                """, to: directory + "/pipelines/\(id).yaml")
        }
        let store = try backend.freshLocation()
        defer { StoreBackend.dispose(store) }
        let processes = try targets.keys.sorted().map { id in
            try SchedulerTests.start(["run", "pipelines/\(id).yaml"], in: directory, name: id, environment: ["SDATA_STORE": store])
        }
        for (id, process) in zip(targets.keys.sorted(), processes) {
            #expect(await SchedulerTests.waitForExit(process, seconds: 120))
            #expect(process.terminationStatus == 0, "\((try? TestSupport.read(directory + "/\(id).log"))?.suffix(1500) ?? "")")
        }
        let catalog = try Self.openCatalog(directory, store: store)
        #expect(catalog.layout.publicDirectory == shared + "/public")
        let same = try await catalog.store.versions(dataset: "same")
        #expect(same.map(\.number) == [1, 2], "serialized: two versions, numbered in order, neither lost")
        #expect(Set(same.map(\.runId)).count == 2 && Set(same.map(\.contentHash)).count == 2)
        for version in same + (try await catalog.store.versions(dataset: "other-b")) + (try await catalog.store.versions(dataset: "other-c")) {
            for distribution in version.distributions {
                let data = try Data(contentsOf: URL(fileURLWithPath: shared + "/public/" + distribution.path))
                #expect(data.count == distribution.bytes && Hex.string(SHA256Digest.of(data)) == distribution.sha256,
                        "\(distribution.path) is whole and matches its record")
            }
        }
        #expect(FileManager.default.fileExists(atPath: shared + "/public/datasets/other-b/1/other-b.csv"))
        #expect(FileManager.default.fileExists(atPath: shared + "/public/datasets/other-c/1/other-c.csv"))
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: shared + "/public/datasets/same/latest")) == "2")
        #expect(try await catalog.store.leases().isEmpty, "publication leases released")
        let drafts = try FileManager.default.contentsOfDirectory(atPath: shared + "/.drafts").filter { !$0.hasSuffix(".lock") }
        #expect(drafts.isEmpty, "no draft left: \(drafts)")
    }

    @Test func specsAndServicesNeverPrintKeys() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.copyItem(atPath: TestSupport.packageRoot + "/pipelines", toPath: directory + "/pipelines")
        let spec = try TestSupport.spec(directory + "/pipelines/seoul-tracing-visits.yaml",
                                        environment: EndToEndTests.tracingKey)
        let printed = String(describing: spec) + String(reflecting: spec)
        #expect(!printed.contains(Array("end-to-end-test-key".utf8).map(String.init).joined(separator: ", ")))
        #expect(!printed.contains("end-to-end-test-key"))
    }
}
