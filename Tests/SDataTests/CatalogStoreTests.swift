import Foundation
import Testing
import GRDB
import SDataCatalog

/// The catalog-store contract, one body per test, run against every implementation (SQLite and PostgreSQL).
@Suite struct CatalogStoreTests {
    static func run(_ id: String, _ pipeline: String, at seconds: Double) -> RunRecord {
        RunRecord(id: id, pipeline: pipeline, startedAt: Date(timeIntervalSince1970: 1_700_000_000 + seconds), specHash: "h")
    }

    static func version(_ dataset: String, _ number: Int, run: String, formats: [String] = ["csv", "json", "parquet"]) -> VersionRecord {
        VersionRecord(dataset: dataset, number: number, runId: run, createdAt: Date(timeIntervalSince1970: 1_700_000_500),
                      contentHash: "c\(number)", rowCount: 10 * number, title: "T \(dataset)", schemaJSON: "{}",
                      lineageJSON: "{\"run\":\"\(run)\"}", governanceJSON: "{}",
                      distributions: formats.map {
                          DistributionRecord(format: $0, path: "datasets/\(dataset)/\(number)/\(dataset).\($0)",
                                             mediaType: "text/\($0)", bytes: 100 + number, sha256: String(repeating: "a", count: 64))
                      })
    }

    /// Raw SQL outside the store, as an operator with a database login could run it.
    static func outside(_ location: String, _ sql: String) throws {
        if location.hasPrefix("sqlite:") {
            let database = try DatabaseQueue(path: String(location.dropFirst("sqlite:".count)))
            try database.write { try $0.execute(sql: sql) }
        } else {
            try StoreBackend.psql(location, sql)
        }
    }

    @Test(arguments: StoreBackend.available)
    func runsAreRecordedAndListedNewestFirst(_ backend: StoreBackend) async throws {
        let (store, location) = try backend.makeStore()
        defer { StoreBackend.dispose(location) }
        try await store.beginRun(Self.run("r1", "a", at: 0))
        try await store.beginRun(Self.run("r2", "a", at: 10))
        try await store.beginRun(Self.run("r3", "b", at: 20))
        var finished = Self.run("r1", "a", at: 0)
        finished.status = .published
        finished.finishedAt = Date(timeIntervalSince1970: 1_700_000_005)
        finished.rowsIn = 7
        finished.rowsOut = 5
        finished.rowsSuppressed = 2
        finished.version = 1
        try await store.finishRun(finished)
        #expect(try await store.runs(pipeline: nil, limit: 10).map(\.id) == ["r3", "r2", "r1"])
        #expect(try await store.runs(pipeline: "a", limit: 1).map(\.id) == ["r2"])
        #expect(try await store.runs(pipeline: "a", limit: 10).last == finished)
        #expect(Set(try await store.runningRuns().map(\.id)) == ["r2", "r3"])
        let runsTable = try #require(StoreTable.all.first { $0.name == "runs" })
        #expect(try await store.countRows(runsTable) == 3)
        #expect(try await store.exportRows(runsTable).count == 3)
    }

    @Test(arguments: StoreBackend.available)
    func versionsKeepTheirDistributionsInOrderAndWithdrawnOnesAreTombstones(_ backend: StoreBackend) async throws {
        let (store, location) = try backend.makeStore()
        defer { StoreBackend.dispose(location) }
        try await store.beginRun(Self.run("r1", "d", at: 0))
        try await store.beginRun(Self.run("r2", "d", at: 1))
        let first = Self.version("d", 1, run: "r1", formats: ["xlsx", "csv", "geojson"])
        let second = Self.version("d", 2, run: "r2")
        try await store.recordVersion(first)
        try await store.recordVersion(second)
        #expect(try await store.versions(dataset: "d") == [first, second])
        #expect(try await store.latestVersion(dataset: "d") == second)
        #expect(try await store.datasets() == ["d"])
        try await store.withdrawVersion(dataset: "d", number: 2, reason: "retention")
        #expect(try await store.latestVersion(dataset: "d") == first)
        let tombstone = try #require(try await store.versions(dataset: "d").last)
        #expect(tombstone.withdrawnReason == "retention" && tombstone.withdrawnAt != nil)
        await #expect(throws: (any Error).self, "a version number is never reused") {
            try await store.recordVersion(Self.version("d", 2, run: "r2"))
        }
        #expect(try await store.latestVersion(dataset: "missing") == nil)
    }

    @Test(arguments: StoreBackend.available)
    func thePrivacyBudgetRefusesARecordPastIt(_ backend: StoreBackend) async throws {
        let (store, location) = try backend.makeStore()
        defer { StoreBackend.dispose(location) }
        for index in 1...3 { try await store.beginRun(Self.run("r\(index)", "p", at: Double(index))) }
        try await store.recordVersion(Self.version("p", 1, run: "r1"), charge: PrivacyCharge(epsilon: 0.6, budget: 1.0))
        await #expect(throws: (any Error).self) {
            try await store.recordVersion(Self.version("p", 2, run: "r2"), charge: PrivacyCharge(epsilon: 0.6, budget: 1.0))
        }
        #expect(try await store.versions(dataset: "p").count == 1, "the refused release recorded nothing")
        #expect(abs(try await store.privacySpent(dataset: "p") - 0.6) < 1e-12)
        try await store.recordVersion(Self.version("p", 2, run: "r3"), charge: PrivacyCharge(epsilon: 0.4, budget: 1.0))
        #expect(abs(try await store.privacySpent(dataset: "p") - 1.0) < 1e-12)
    }

    @Test(arguments: StoreBackend.available)
    func bookmarksRawKeysAndHolds(_ backend: StoreBackend) async throws {
        let (store, location) = try backend.makeStore()
        defer { StoreBackend.dispose(location) }
        #expect(try await store.bookmark(pipeline: "p") == nil)
        try await store.setBookmark("10", pipeline: "p")
        try await store.setBookmark("20", pipeline: "p")
        #expect(try await store.bookmark(pipeline: "p") == "20")

        try await store.beginRun(Self.run("r1", "p", at: 0))
        let key: [UInt8] = (0..<32).map { UInt8($0 * 7 % 256) }
        try await store.storeRawKey(key, runId: "r1", pipeline: "p")
        #expect(try await store.rawKey(runId: "r1") == key)
        #expect(try await store.rawExtracts().map(\.hasKey) == [true])
        try await store.destroyRawKey(runId: "r1", reason: "retention")
        #expect(try await store.rawKey(runId: "r1") == nil)
        let extract = try #require(try await store.rawExtracts().first)
        #expect(!extract.hasKey && extract.destroyedAt != nil)

        let hold = try await store.addHold(dataset: "p", runId: nil, reason: "court order")
        let other = try await store.addHold(dataset: nil, runId: "r1", reason: "inquiry")
        #expect(other > hold)
        #expect(try await store.activeHolds().map(\.id) == [hold, other])
        #expect(try await store.releaseHold(id: hold))
        #expect(try await !store.releaseHold(id: hold), "a released hold is not released twice")
        #expect(try await store.activeHolds().map(\.reason) == ["inquiry"])
    }

    @Test(arguments: StoreBackend.available)
    func leasesAreExclusiveUntilTheyExpire(_ backend: StoreBackend) async throws {
        let (store, location) = try backend.makeStore()
        defer { StoreBackend.dispose(location) }
        let now = Date()
        #expect(try await store.acquireLease("pipeline:x", holder: "A", ttl: 10, now: now))
        #expect(try await !store.acquireLease("pipeline:x", holder: "B", ttl: 10, now: now.addingTimeInterval(5)))
        #expect(try await store.acquireLease("pipeline:x", holder: "A", ttl: 10, now: now.addingTimeInterval(5)), "re-entrant")
        #expect(try await store.renewLease("pipeline:x", holder: "A", ttl: 10, now: now.addingTimeInterval(6)))
        // A's lease runs to now+16; B takes it over once it has expired.
        #expect(try await store.acquireLease("pipeline:x", holder: "B", ttl: 10, now: now.addingTimeInterval(17)))
        #expect(try await !store.renewLease("pipeline:x", holder: "A", ttl: 10, now: now.addingTimeInterval(18)), "A lost it")
        try await store.releaseLease("pipeline:x", holder: "A")  // not A's any more: no effect
        #expect(try await store.leases().map(\.holder) == ["B"])
        try await store.releaseLease("pipeline:x", holder: "B")
        #expect(try await store.leases().isEmpty)

        // Twenty contenders at once: exactly one wins.
        let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<20 {
                group.addTask { try await store.acquireLease("slot:0", holder: "C\(index)", ttl: 30, now: Date()) }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(winners == 1)
    }

    /// Only runs whose pipeline lease is gone or expired are stale; a run taking its lease and beginning while the
    /// check runs (another process starting up) is never caught between the two.
    @Test(arguments: StoreBackend.available)
    func onlyRunsWithoutALiveLeaseAreMarkedStale(_ backend: StoreBackend) async throws {
        let (store, location) = try backend.makeStore()
        defer { StoreBackend.dispose(location) }
        let now = Date()
        try await store.beginRun(Self.run("dead", "a", at: 0))
        try await store.beginRun(Self.run("expired", "b", at: 0))
        #expect(try await store.acquireLease("pipeline:b", holder: "B", ttl: 5, now: now.addingTimeInterval(-10)))
        try await store.beginRun(Self.run("live", "c", at: 0))
        #expect(try await store.acquireLease("pipeline:c", holder: "C", ttl: 60, now: now))
        let failed = try await store.failStaleRuns(now: now, reason: "stale")
        #expect(Set(failed.map(\.id)) == ["dead", "expired"])
        #expect(failed.allSatisfy { $0.status == .failed && $0.error == "stale" && $0.finishedAt != nil })
        #expect(try await store.runningRuns().map(\.id) == ["live"])
        #expect(try await store.runs(pipeline: "a", limit: 1).first?.status == .failed)
        #expect(try await store.auditLog().filter { $0.kind == "run.failed" }.count == 2)

        // Processes starting runs (lease, then run) while another repairs: no live run is ever marked failed.
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for index in 0..<60 {
                    #expect(try await store.acquireLease("pipeline:p\(index)", holder: "P", ttl: 60, now: Date()))
                    try await store.beginRun(Self.run("p\(index)", "p\(index)", at: Double(index)))
                }
            }
            group.addTask {
                for _ in 0..<60 { _ = try await store.failStaleRuns(now: Date(), reason: "stale") }
            }
            try await group.waitForAll()
        }
        #expect(try await store.runningRuns().count == 61, "the live run and all sixty new ones are still running")
    }

    /// A shutdown cancels the task that holds a lease; giving it up is clean-up and must still happen, or every
    /// other process is kept out until it expires.
    @Test(arguments: StoreBackend.available)
    func aCancelledTaskStillReleasesItsLease(_ backend: StoreBackend) async throws {
        let (store, location) = try backend.makeStore()
        defer { StoreBackend.dispose(location) }
        #expect(try await store.acquireLease("catalog-dump", holder: "A", ttl: 600, now: Date()))
        let task = Task {
            while !Task.isCancelled { await Task.yield() }
            try await store.releaseLease("catalog-dump", holder: "A")
        }
        task.cancel()
        try await task.value
        #expect(try await store.leases().isEmpty)
    }

    @Test(arguments: StoreBackend.available)
    func theAuditLogIsAChainAndAppendOnly(_ backend: StoreBackend) async throws {
        let (store, location) = try backend.makeStore()
        defer { StoreBackend.dispose(location) }
        try await store.beginRun(Self.run("r1", "a", at: 0))
        // Concurrent writers still produce one linear chain.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<12 {
                group.addTask { try await store.appendAudit(kind: "test", subject: "s\(index)", detail: "d") }
            }
            try await group.waitForAll()
        }
        try await store.recordVersion(Self.version("a", 1, run: "r1"))
        let log = try await store.auditLog()
        #expect(log.count == 13)
        #expect(AuditVerifier.verify(log).isEmpty)
        #expect(throws: (any Error).self, "UPDATE is refused") {
            try Self.outside(location, "UPDATE audit SET detail = 'edited' WHERE sequence = 1")
        }
        #expect(throws: (any Error).self, "DELETE is refused") {
            try Self.outside(location, "DELETE FROM audit WHERE sequence = 2")
        }
        #expect(AuditVerifier.verify(try await store.auditLog()).isEmpty)
    }

    @Test(arguments: StoreBackend.available)
    func theRunQueueHandsEachRunToOneWorkerAndTakesOverStaleClaims(_ backend: StoreBackend) async throws {
        let (store, location) = try backend.makeStore()
        defer { StoreBackend.dispose(location) }
        let now = Date()
        #expect(try await store.enqueueRun(pipeline: "a", key: "2026-11-25T02:00:00Z", now: now))
        #expect(try await !store.enqueueRun(pipeline: "a", key: "2026-11-25T02:00:00Z", now: now), "one entry per firing")
        for index in 1...9 { _ = try await store.enqueueRun(pipeline: "p\(index)", key: "initial", now: now) }

        // Five workers claim concurrently until the queue is empty: each entry exactly once.
        let claims = try await withThrowingTaskGroup(of: [Int].self) { group in
            for worker in 0..<5 {
                group.addTask {
                    var mine: [Int] = []
                    while let run = try await store.claimRun(ClaimRequest(
                        worker: "w\(worker)", pipelines: ["a"] + (1...9).map { "p\($0)" }, staleAfter: 30)) {
                        mine.append(run.id)
                    }
                    return mine
                }
            }
            return try await group.reduce([]) { $0 + $1 }
        }
        #expect(claims.count == 10 && Set(claims).count == 10)
        #expect(try await store.claimRun(ClaimRequest(worker: "w9", pipelines: ["a"], staleAfter: 30)) == nil)

        // A claim whose worker stopped heartbeating is taken over; the dead worker can no longer finish it.
        let entry = try #require(try await store.queuedRuns(pipeline: "a", limit: 1).first)
        let later = Date().addingTimeInterval(60)
        let taken = try #require(try await store.claimRun(ClaimRequest(worker: "w9", pipelines: ["a"], staleAfter: 30, now: later)))
        #expect(taken.id == entry.id && taken.attempts == 2 && taken.worker == "w9")
        #expect(try await !store.heartbeatRun(id: entry.id, worker: entry.worker!, now: later))
        #expect(try await store.heartbeatRun(id: entry.id, worker: "w9", now: later))
        try await store.finishQueuedRun(id: entry.id, worker: entry.worker!, state: .done, runId: "x", outcome: "published")
        #expect(try await store.queuedRuns(pipeline: "a", limit: 1).first?.state == .claimed, "a lost claim finishes nothing")
        try await store.finishQueuedRun(id: entry.id, worker: "w9", state: .done, runId: "r9", outcome: "published")
        let done = try #require(try await store.queuedRuns(pipeline: "a", limit: 1).first)
        #expect(done.state == .done && done.runId == "r9")

        // A second firing of a pipeline waits while another worker runs the first; unclaiming puts it back.
        _ = try await store.enqueueRun(pipeline: "b", key: "k1", now: now)
        _ = try await store.enqueueRun(pipeline: "b", key: "k2", now: now)
        let b1 = try #require(try await store.claimRun(ClaimRequest(worker: "w1", pipelines: ["b"], staleAfter: 30)))
        #expect(try await store.claimRun(ClaimRequest(worker: "w2", pipelines: ["b"], staleAfter: 30)) == nil)
        try await store.unclaimRun(id: b1.id, worker: "w1")
        let again = try #require(try await store.claimRun(ClaimRequest(worker: "w2", pipelines: ["b"], staleAfter: 30)))
        #expect(again.id == b1.id && again.attempts == 1)

        // Claimed and abandoned too often: failed, not claimed again.
        _ = try await store.enqueueRun(pipeline: "c", key: "k", now: now)
        var time = Date()
        for attempt in 1...2 {
            let claim = try #require(try await store.claimRun(ClaimRequest(worker: "d\(attempt)", pipelines: ["c"],
                                                                           staleAfter: 30, maxAttempts: 2, now: time)))
            #expect(claim.attempts == attempt)
            time = time.addingTimeInterval(60)
        }
        #expect(try await store.claimRun(ClaimRequest(worker: "d3", pipelines: ["c"], staleAfter: 30, maxAttempts: 2, now: time)) == nil)
        let abandoned = try #require(try await store.queuedRuns(pipeline: "c", limit: 1).first)
        #expect(abandoned.state == .failed && abandoned.outcome?.contains("abandoned") == true)
    }

    @Test(arguments: StoreBackend.available)
    func opening_a_store_twice_migrates_once(_ backend: StoreBackend) async throws {
        let location = try backend.freshLocation()
        defer { StoreBackend.dispose(location) }
        let layout = CatalogLayout(root: "/nonexistent")
        // Two processes starting together: both open, both use the store at once.
        let first = try StoreLocation(location, layout: layout).open()
        let second = try StoreLocation(location, layout: layout).open()
        async let a: Void = first.setBookmark("1", pipeline: "x")
        async let b: Void = second.setBookmark("2", pipeline: "y")
        _ = try await (a, b)
        #expect(try await first.bookmark(pipeline: "y") == "2")
        let reopened = try StoreLocation(location, layout: layout).open()
        #expect(try await reopened.bookmark(pipeline: "x") == "1")
        if let postgres = reopened as? PostgresCatalogStore {
            #expect(try await postgres.appliedMigrations().count == 5)
        }
    }

    @Test(arguments: StoreBackend.available)
    func aStoreURLWithAPasswordNeverShowsIt(_ backend: StoreBackend) throws {
        guard backend == .postgres else { return }
        let location = StoreLocation(kind: .postgres(url: "postgres://sdata:s3cr3t-pw@127.0.0.1:1/db"))
        #expect(!location.description.contains("s3cr3t-pw") && location.description.contains("***"))
    }

    @Test func unreachableServerGivesAClearError() async throws {
        let store = try PostgresCatalogStore(url: "postgres://nobody:hunter2@127.0.0.1:9/nowhere?sslmode=disable")
        do {
            _ = try await store.datasets()
            Issue.record("an unreachable server must fail")
        } catch {
            let message = "\(error)"
            #expect(message.contains("PostgreSQL store at postgres://nobody:***@127.0.0.1:9/nowhere"), "\(message)")
            #expect(!message.contains("hunter2"))
        }
    }
}
