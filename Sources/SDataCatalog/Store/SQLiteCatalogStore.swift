public import Foundation
import GRDB
import Crypto
import SDataCore
#if canImport(Glibc)
import Glibc
#endif

/// The embedded catalog store: one SQLite file (`state.sqlite`) in WAL mode, migrated forward on open.
public final class SQLiteCatalogStore: CatalogStore {
    private let database: DatabaseQueue

    /// Opens (creating if needed) the store at `path` and applies pending migrations.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        // Bound values are never included in error messages: they may be personal data.
        configuration.publicStatementArguments = false
        database = try DatabaseQueue(path: path, configuration: configuration)
        // Processes that open a new store at the same moment (workers, schedulers starting together) would each
        // see no migration applied and create the same tables: migrate under a lock file beside the database.
        let lock = open(path + ".migrate-lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        if lock >= 0 {
            while flock(lock, LOCK_EX) != 0 && errno == EINTR {}
        }
        defer {
            if lock >= 0 {
                flock(lock, LOCK_UN)
                close(lock)
            }
        }
        try database.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = WAL") }
        try SQLiteCatalogStore.migrator.migrate(database)
    }

    /// Named, ordered, forward-only migrations. Never edit a shipped migration: add a new one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-runs-versions-bookmarks-audit") { db in
            try db.execute(sql: """
                CREATE TABLE runs (
                    id TEXT PRIMARY KEY,
                    pipeline TEXT NOT NULL,
                    started_at TEXT NOT NULL,
                    finished_at TEXT,
                    status TEXT NOT NULL,
                    rows_in INTEGER NOT NULL DEFAULT 0,
                    rows_out INTEGER NOT NULL DEFAULT 0,
                    rows_suppressed INTEGER NOT NULL DEFAULT 0,
                    version INTEGER,
                    error TEXT,
                    spec_hash TEXT NOT NULL
                );
                CREATE INDEX runs_by_pipeline ON runs(pipeline, started_at);
                CREATE TABLE versions (
                    dataset TEXT NOT NULL,
                    number INTEGER NOT NULL,
                    run_id TEXT NOT NULL REFERENCES runs(id),
                    created_at TEXT NOT NULL,
                    content_hash TEXT NOT NULL,
                    row_count INTEGER NOT NULL,
                    title TEXT NOT NULL,
                    schema_json TEXT NOT NULL,
                    lineage_json TEXT NOT NULL,
                    governance_json TEXT NOT NULL,
                    PRIMARY KEY (dataset, number)
                );
                CREATE TABLE distributions (
                    dataset TEXT NOT NULL,
                    number INTEGER NOT NULL,
                    format TEXT NOT NULL,
                    path TEXT NOT NULL,
                    media_type TEXT NOT NULL,
                    bytes INTEGER NOT NULL,
                    sha256 TEXT NOT NULL,
                    PRIMARY KEY (dataset, number, format),
                    FOREIGN KEY (dataset, number) REFERENCES versions(dataset, number)
                );
                CREATE TABLE bookmarks (
                    pipeline TEXT PRIMARY KEY,
                    value TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                );
                CREATE TABLE audit (
                    sequence INTEGER PRIMARY KEY,
                    at TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    detail TEXT NOT NULL,
                    previous_hash TEXT NOT NULL,
                    hash TEXT NOT NULL
                );
                CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                """)
        }
        migrator.registerMigration("v2-raw-keys-retention-holds") { db in
            try db.execute(sql: """
                CREATE TABLE raw_extracts (
                    run_id TEXT PRIMARY KEY REFERENCES runs(id),
                    pipeline TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    destroyed_at TEXT,
                    destroyed_reason TEXT
                );
                CREATE TABLE raw_keys (
                    run_id TEXT PRIMARY KEY REFERENCES raw_extracts(run_id),
                    key BLOB NOT NULL
                );
                ALTER TABLE versions ADD COLUMN withdrawn_at TEXT;
                ALTER TABLE versions ADD COLUMN withdrawn_reason TEXT;
                CREATE TABLE holds (
                    id INTEGER PRIMARY KEY,
                    dataset TEXT,
                    run_id TEXT,
                    reason TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    released_at TEXT
                );
                """)
        }
        migrator.registerMigration("v3-privacy-ledger") { db in
            try db.execute(sql: """
                CREATE TABLE privacy_ledger (
                    id INTEGER PRIMARY KEY,
                    dataset TEXT NOT NULL,
                    run_id TEXT NOT NULL,
                    epsilon REAL NOT NULL,
                    at TEXT NOT NULL
                );
                CREATE INDEX privacy_ledger_by_dataset ON privacy_ledger(dataset);
                """)
        }
        migrator.registerMigration("v4-leases") { db in
            try db.execute(sql: """
                CREATE TABLE leases (
                    name TEXT PRIMARY KEY,
                    holder TEXT NOT NULL,
                    acquired_at REAL NOT NULL,
                    expires_at REAL NOT NULL
                );
                """)
        }
        migrator.registerMigration("v5-run-queue-distribution-order") { db in
            try db.execute(sql: """
                CREATE TABLE run_queue (
                    id INTEGER PRIMARY KEY,
                    pipeline TEXT NOT NULL,
                    key TEXT NOT NULL,
                    enqueued_at TEXT NOT NULL,
                    state TEXT NOT NULL,
                    worker TEXT,
                    heartbeat_at REAL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    run_id TEXT,
                    outcome TEXT,
                    UNIQUE (pipeline, key)
                );
                CREATE INDEX run_queue_by_state ON run_queue(state, id);
                ALTER TABLE distributions ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
                UPDATE distributions SET position = rowid;
                """)
        }
        return migrator
    }

    // MARK: - Runs

    public func beginRun(_ run: RunRecord) async throws {
        try await database.write { db in
            try db.execute(sql: """
                INSERT INTO runs (id, pipeline, started_at, status, spec_hash) VALUES (?, ?, ?, ?, ?)
                """, arguments: [run.id, run.pipeline, Timestamp.string(run.startedAt), run.status.rawValue, run.specHash])
        }
    }

    public func finishRun(_ run: RunRecord) async throws {
        try await database.write { db in try SQLiteCatalogStore.finish(db, run) }
    }

    private static func finish(_ db: Database, _ run: RunRecord) throws {
        try db.execute(sql: """
            UPDATE runs SET finished_at = ?, status = ?, rows_in = ?, rows_out = ?, rows_suppressed = ?, version = ?,
                error = ? WHERE id = ?
            """, arguments: [run.finishedAt.map(Timestamp.string), run.status.rawValue, run.rowsIn, run.rowsOut,
                             run.rowsSuppressed, run.version, run.error, run.id])
        try audit(db, kind: "run.\(run.status.rawValue)", subject: run.pipeline,
                  detail: "run \(run.id)" + (run.version.map { " version \($0)" } ?? ""))
    }

    public func failStaleRuns(now: Date, reason: String) async throws -> [RunRecord] {
        try await database.write { db in
            // One write transaction: no lease or run can change between the read and the updates.
            let stale = try Row.fetchAll(db, sql: """
                SELECT * FROM runs WHERE status = 'running' AND NOT EXISTS (
                    SELECT 1 FROM leases WHERE leases.name = 'pipeline:' || runs.pipeline AND leases.expires_at > ?)
                """, arguments: [now.timeIntervalSince1970]).map(SQLiteCatalogStore.run)
            return try stale.map { run in
                var failed = run
                failed.status = .failed
                failed.finishedAt = now
                failed.error = reason
                try SQLiteCatalogStore.finish(db, failed)
                return failed
            }
        }
    }

    public func runs(pipeline: String?, limit: Int) async throws -> [RunRecord] {
        try await database.read { db in
            let rows: [Row]
            if let pipeline {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM runs WHERE pipeline = ? ORDER BY started_at DESC, id DESC LIMIT ?",
                                        arguments: [pipeline, limit])
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM runs ORDER BY started_at DESC, id DESC LIMIT ?",
                                        arguments: [limit])
            }
            return rows.map(SQLiteCatalogStore.run)
        }
    }

    public func runningRuns() async throws -> [RunRecord] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM runs WHERE status = 'running'").map(SQLiteCatalogStore.run)
        }
    }

    private static func run(_ row: Row) -> RunRecord {
        var run = RunRecord(id: row["id"], pipeline: row["pipeline"], startedAt: Timestamp.date(row["started_at"]),
                            specHash: row["spec_hash"])
        run.finishedAt = (row["finished_at"] as String?).map(Timestamp.date)
        run.status = RunStatus(rawValue: row["status"]) ?? .failed
        run.rowsIn = row["rows_in"]
        run.rowsOut = row["rows_out"]
        run.rowsSuppressed = row["rows_suppressed"]
        run.version = row["version"]
        run.error = row["error"]
        return run
    }

    // MARK: - Versions

    public func latestVersion(dataset: String) async throws -> VersionRecord? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM versions WHERE dataset = ? AND withdrawn_at IS NULL ORDER BY number DESC LIMIT 1",
                             arguments: [dataset]).map { try SQLiteCatalogStore.version(db, $0) }
        }
    }

    public func versions(dataset: String) async throws -> [VersionRecord] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM versions WHERE dataset = ? ORDER BY number", arguments: [dataset])
                .map { try SQLiteCatalogStore.version(db, $0) }
        }
    }

    public func datasets() async throws -> [String] {
        try await database.read { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT dataset FROM versions ORDER BY dataset")
        }
    }

    private static func version(_ db: Database, _ row: Row) throws -> VersionRecord {
        var record = try versionWithoutTombstone(db, row)
        record.withdrawnAt = (row["withdrawn_at"] as String?).map(Timestamp.date)
        record.withdrawnReason = row["withdrawn_reason"]
        return record
    }

    private static func versionWithoutTombstone(_ db: Database, _ row: Row) throws -> VersionRecord {
        let dataset: String = row["dataset"]
        let number: Int = row["number"]
        let distributions = try Row.fetchAll(
            db, sql: "SELECT * FROM distributions WHERE dataset = ? AND number = ? ORDER BY position",
            arguments: [dataset, number]
        ).map { row in
            DistributionRecord(format: row["format"], path: row["path"], mediaType: row["media_type"],
                               bytes: row["bytes"], sha256: row["sha256"])
        }
        return VersionRecord(dataset: dataset, number: number, runId: row["run_id"],
                             createdAt: Timestamp.date(row["created_at"]), contentHash: row["content_hash"],
                             rowCount: row["row_count"], title: row["title"], schemaJSON: row["schema_json"],
                             lineageJSON: row["lineage_json"], governanceJSON: row["governance_json"],
                             distributions: distributions)
    }

    public func recordVersion(_ version: VersionRecord, charge: PrivacyCharge?) async throws {
        try await database.write { db in
            if let charge { _ = try SQLiteCatalogStore.charge(db, dataset: version.dataset, runId: version.runId, charge) }
            try db.execute(sql: """
                INSERT INTO versions (dataset, number, run_id, created_at, content_hash, row_count, title, schema_json,
                    lineage_json, governance_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [version.dataset, version.number, version.runId, Timestamp.string(version.createdAt),
                                 version.contentHash, version.rowCount, version.title, version.schemaJSON,
                                 version.lineageJSON, version.governanceJSON])
            for (position, distribution) in version.distributions.enumerated() {
                try db.execute(sql: """
                    INSERT INTO distributions (dataset, number, format, path, media_type, bytes, sha256, position)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [version.dataset, version.number, distribution.format, distribution.path,
                                     distribution.mediaType, distribution.bytes, distribution.sha256, position])
            }
            try SQLiteCatalogStore.audit(db, kind: "version.published", subject: version.dataset,
                                         detail: "version \(version.number) content \(version.contentHash)")
        }
    }

    // MARK: - Raw extracts and retention

    public func storeRawKey(_ key: [UInt8], runId: String, pipeline: String) async throws {
        try await database.write { db in
            try db.execute(sql: "INSERT INTO raw_extracts (run_id, pipeline, created_at) VALUES (?, ?, ?)",
                           arguments: [runId, pipeline, Timestamp.string(Date())])
            try db.execute(sql: "INSERT INTO raw_keys (run_id, key) VALUES (?, ?)", arguments: [runId, Data(key)])
        }
    }

    public func rawKey(runId: String) async throws -> [UInt8]? {
        try await database.read { db in
            try Data.fetchOne(db, sql: "SELECT key FROM raw_keys WHERE run_id = ?", arguments: [runId]).map { [UInt8]($0) }
        }
    }

    public func rawExtracts() async throws -> [RawExtract] {
        try await database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT e.*, k.run_id IS NOT NULL AS has_key FROM raw_extracts e
                LEFT JOIN raw_keys k ON k.run_id = e.run_id ORDER BY e.created_at
                """).map { row in
                RawExtract(runId: row["run_id"], pipeline: row["pipeline"], createdAt: Timestamp.date(row["created_at"]),
                           destroyedAt: (row["destroyed_at"] as String?).map(Timestamp.date), hasKey: row["has_key"])
            }
        }
    }

    public func destroyRawKey(runId: String, reason: String) async throws {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM raw_keys WHERE run_id = ?", arguments: [runId])
            try db.execute(sql: "UPDATE raw_extracts SET destroyed_at = ?, destroyed_reason = ? WHERE run_id = ? AND destroyed_at IS NULL",
                           arguments: [Timestamp.string(Date()), reason, runId])
            try SQLiteCatalogStore.audit(db, kind: "raw.key_destroyed", subject: runId, detail: reason)
        }
    }

    public func withdrawVersion(dataset: String, number: Int, reason: String) async throws {
        try await database.write { db in
            try db.execute(sql: "UPDATE versions SET withdrawn_at = ?, withdrawn_reason = ? WHERE dataset = ? AND number = ?",
                           arguments: [Timestamp.string(Date()), reason, dataset, number])
            try SQLiteCatalogStore.audit(db, kind: "version.withdrawn", subject: dataset,
                                         detail: "version \(number): \(reason)")
        }
    }

    public func addHold(dataset: String?, runId: String?, reason: String) async throws -> Int {
        try await database.write { db in
            try db.execute(sql: "INSERT INTO holds (dataset, run_id, reason, created_at) VALUES (?, ?, ?, ?)",
                           arguments: [dataset, runId, reason, Timestamp.string(Date())])
            let id = Int(db.lastInsertedRowID)
            try SQLiteCatalogStore.audit(db, kind: "hold.placed", subject: dataset ?? runId ?? "",
                                         detail: "hold \(id): \(reason)")
            return id
        }
    }

    public func releaseHold(id: Int) async throws -> Bool {
        try await database.write { db in
            try db.execute(sql: "UPDATE holds SET released_at = ? WHERE id = ? AND released_at IS NULL",
                           arguments: [Timestamp.string(Date()), id])
            guard db.changesCount > 0 else { return false }
            try SQLiteCatalogStore.audit(db, kind: "hold.released", subject: "hold \(id)", detail: "released")
            return true
        }
    }

    public func activeHolds() async throws -> [LegalHold] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM holds WHERE released_at IS NULL ORDER BY id").map { row in
                LegalHold(id: row["id"], dataset: row["dataset"], runId: row["run_id"], reason: row["reason"],
                          createdAt: Timestamp.date(row["created_at"]))
            }
        }
    }

    // MARK: - Privacy budget

    public func privacySpent(dataset: String) async throws -> Double {
        try await database.read { db in
            try Double.fetchOne(db, sql: "SELECT COALESCE(SUM(epsilon), 0) FROM privacy_ledger WHERE dataset = ?",
                                arguments: [dataset]) ?? 0
        }
    }

    private static func charge(_ db: Database, dataset: String, runId: String, _ charge: PrivacyCharge) throws -> Double {
        let epsilon = charge.epsilon, budget = charge.budget
        let spent = try Double.fetchOne(db, sql: "SELECT COALESCE(SUM(epsilon), 0) FROM privacy_ledger WHERE dataset = ?",
                                            arguments: [dataset]) ?? 0
        if let budget, spent + epsilon > budget + 1e-9 {
            throw CatalogError("privacy budget exhausted for '\(dataset)': \(spent) of \(budget) already spent, "
                                   + "this release needs \(epsilon); nothing was published")
        }
        try db.execute(sql: "INSERT INTO privacy_ledger (dataset, run_id, epsilon, at) VALUES (?, ?, ?, ?)",
                       arguments: [dataset, runId, epsilon, Timestamp.string(Date())])
        try SQLiteCatalogStore.audit(db, kind: "privacy.charged", subject: dataset,
                                         detail: "run \(runId): epsilon \(epsilon), spent \(spent + epsilon)"
                                             + (budget.map { " of \($0)" } ?? ""))
        return spent
    }

    // MARK: - Bookmarks

    public func bookmark(pipeline: String) async throws -> String? {
        try await database.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM bookmarks WHERE pipeline = ?", arguments: [pipeline])
        }
    }

    public func setBookmark(_ value: String, pipeline: String) async throws {
        try await database.write { db in
            try db.execute(sql: """
                INSERT INTO bookmarks (pipeline, value, updated_at) VALUES (?, ?, ?)
                ON CONFLICT(pipeline) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
                """, arguments: [pipeline, value, Timestamp.string(Date())])
        }
    }

    // MARK: - Leases

    public func acquireLease(_ name: String, holder: String, ttl: TimeInterval, now: Date) async throws -> Bool {
        let time = now.timeIntervalSince1970
        return try await database.write { db in
            // One statement: insert, or take over when the lease is ours already or has expired (its holder died).
            try db.execute(sql: """
                INSERT INTO leases (name, holder, acquired_at, expires_at) VALUES (?, ?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, acquired_at = excluded.acquired_at,
                    expires_at = excluded.expires_at
                WHERE leases.holder = excluded.holder OR leases.expires_at < ?
                """, arguments: [name, holder, time, time + ttl, time])
            return try String.fetchOne(db, sql: "SELECT holder FROM leases WHERE name = ?", arguments: [name]) == holder
        }
    }

    public func renewLease(_ name: String, holder: String, ttl: TimeInterval, now: Date) async throws -> Bool {
        try await database.write { db in
            try db.execute(sql: "UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ?",
                           arguments: [now.timeIntervalSince1970 + ttl, name, holder])
            return db.changesCount == 1
        }
    }

    public func releaseLease(_ name: String, holder: String) async throws {
        let database = self.database
        // Detached: GRDB stops a cancelled task's access before it starts (see the protocol).
        try await Task.detached {
            try await database.write { db in
                try db.execute(sql: "DELETE FROM leases WHERE name = ? AND holder = ?", arguments: [name, holder])
            }
        }.value
    }

    public func leases() async throws -> [Lease] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM leases ORDER BY name").map { row in
                Lease(name: row["name"], holder: row["holder"],
                      acquiredAt: Date(timeIntervalSince1970: row["acquired_at"]),
                      expiresAt: Date(timeIntervalSince1970: row["expires_at"]))
            }
        }
    }

    // MARK: - Run queue

    public func enqueueRun(pipeline: String, key: String, now: Date) async throws -> Bool {
        try await database.write { db in
            try db.execute(sql: """
                INSERT INTO run_queue (pipeline, key, enqueued_at, state) VALUES (?, ?, ?, 'queued')
                ON CONFLICT (pipeline, key) DO NOTHING
                """, arguments: [pipeline, key, Timestamp.string(now)])
            return db.changesCount == 1
        }
    }

    public func claimRun(_ request: ClaimRequest) async throws -> QueuedRun? {
        guard !request.pipelines.isEmpty else { return nil }
        let stale = request.now.timeIntervalSince1970 - request.staleAfter
        let now = request.now.timeIntervalSince1970
        // SQLite has one writer at a time: the whole claim is one write transaction, so two workers never claim
        // the same entry (PostgreSQL does the same with FOR UPDATE SKIP LOCKED).
        return try await database.write { db in
            let known = "(" + request.pipelines.map { _ in "?" }.joined(separator: ", ") + ")"
            let pipelines: [any DatabaseValueConvertible] = request.pipelines
            let abandonArguments: [any DatabaseValueConvertible] = [stale, request.maxAttempts] + pipelines
            try db.execute(sql: """
                UPDATE run_queue SET state = 'failed',
                    outcome = 'abandoned: claimed ' || attempts || ' times by workers that stopped before finishing it'
                WHERE state = 'claimed' AND heartbeat_at < ? AND attempts >= ? AND pipeline IN \(known)
                """, arguments: StatementArguments(abandonArguments))
            let claimArguments: [any DatabaseValueConvertible] = [stale] + pipelines + [stale]
            guard let row = try Row.fetchOne(db, sql: """
                SELECT * FROM run_queue q
                WHERE (q.state = 'queued' OR (q.state = 'claimed' AND q.heartbeat_at < ?)) AND q.pipeline IN \(known)
                  AND NOT EXISTS (SELECT 1 FROM run_queue c WHERE c.pipeline = q.pipeline AND c.id <> q.id
                                  AND c.state = 'claimed' AND c.heartbeat_at >= ?)
                ORDER BY q.id LIMIT 1
                """, arguments: StatementArguments(claimArguments)) else { return nil }
            let id: Int = row["id"]
            try db.execute(sql: """
                UPDATE run_queue SET state = 'claimed', worker = ?, heartbeat_at = ?, attempts = attempts + 1 WHERE id = ?
                """, arguments: [request.worker, now, id])
            return try Row.fetchOne(db, sql: "SELECT * FROM run_queue WHERE id = ?", arguments: [id]).map(SQLiteCatalogStore.queued)
        }
    }

    public func heartbeatRun(id: Int, worker: String, now: Date) async throws -> Bool {
        try await database.write { db in
            try db.execute(sql: "UPDATE run_queue SET heartbeat_at = ? WHERE id = ? AND worker = ? AND state = 'claimed'",
                           arguments: [now.timeIntervalSince1970, id, worker])
            return db.changesCount == 1
        }
    }

    public func unclaimRun(id: Int, worker: String) async throws {
        try await database.write { db in
            try db.execute(sql: """
                UPDATE run_queue SET state = 'queued', worker = NULL, heartbeat_at = NULL, attempts = attempts - 1
                WHERE id = ? AND worker = ? AND state = 'claimed'
                """, arguments: [id, worker])
        }
    }

    public func finishQueuedRun(id: Int, worker: String, state: QueuedRun.State, runId: String?, outcome: String) async throws {
        try await database.write { db in
            try db.execute(sql: """
                UPDATE run_queue SET state = ?, run_id = ?, outcome = ? WHERE id = ? AND worker = ? AND state = 'claimed'
                """, arguments: [state.rawValue, runId, outcome, id, worker])
        }
    }

    public func queuedRuns(pipeline: String?, limit: Int) async throws -> [QueuedRun] {
        try await database.read { db in
            if let pipeline {
                return try Row.fetchAll(db, sql: "SELECT * FROM run_queue WHERE pipeline = ? ORDER BY id DESC LIMIT ?",
                                        arguments: [pipeline, limit]).map(SQLiteCatalogStore.queued)
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM run_queue ORDER BY id DESC LIMIT ?", arguments: [limit])
                .map(SQLiteCatalogStore.queued)
        }
    }

    private static func queued(_ row: Row) -> QueuedRun {
        QueuedRun(id: row["id"], pipeline: row["pipeline"], key: row["key"], enqueuedAt: Timestamp.date(row["enqueued_at"]),
                  state: QueuedRun.State(rawValue: row["state"]) ?? .failed, worker: row["worker"],
                  heartbeatAt: (row["heartbeat_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
                  attempts: row["attempts"], runId: row["run_id"], outcome: row["outcome"])
    }

    // MARK: - Transfer

    public func exportRows(_ table: StoreTable) async throws -> [[StoreCell]] {
        try await database.read { db in
            try Row.fetchAll(db, sql: table.selectSQL).map { row in
                table.columns.indices.map { index -> StoreCell in
                    switch row[index] as DatabaseValue {
                    case let value where value.isNull: return .null
                    case let value:
                        switch value.storage {
                        case .int64(let number): return table.columns[index].kind == .real ? .real(Double(number)) : .integer(Int(number))
                        case .double(let number): return .real(number)
                        case .string(let text): return .text(text)
                        case .blob(let data): return .blob([UInt8](data))
                        case .null: return .null
                        }
                    }
                }
            }
        }
    }

    public func importRows(_ tables: [(StoreTable, [[StoreCell]])]) async throws {
        guard try await isEmpty() else {
            throw CatalogError("the target SQLite store already holds a catalog; migrate into an empty store")
        }
        try await database.write { db in
            for (table, rows) in tables {
                try db.execute(sql: "DELETE FROM \(table.name)")
                let columns = table.columns.map(\.name)
                let sql = "INSERT INTO \(table.name) (\(columns.joined(separator: ", "))) VALUES ("
                    + columns.map { _ in "?" }.joined(separator: ", ") + ")"
                let statement = try db.makeStatement(sql: sql)
                for row in rows {
                    statement.setUncheckedArguments(StatementArguments(row.map { cell -> (any DatabaseValueConvertible)? in
                        switch cell {
                        case .null: nil
                        case .integer(let value): value
                        case .real(let value): value
                        case .text(let value): value
                        case .blob(let value): Data(value)
                        }
                    }))
                    try statement.execute()
                }
            }
        }
    }

    public func countRows(_ table: StoreTable) async throws -> Int {
        try await database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table.name)") ?? 0 }
    }

    public func isEmpty() async throws -> Bool {
        try await database.read { db in
            try Int.fetchOne(db, sql: "SELECT (SELECT COUNT(*) FROM runs) + (SELECT COUNT(*) FROM versions) + (SELECT COUNT(*) FROM audit)") == 0
        }
    }

    // MARK: - Audit

    public func appendAudit(kind: String, subject: String, detail: String) async throws {
        try await database.write { db in
            try SQLiteCatalogStore.audit(db, kind: kind, subject: subject, detail: detail)
        }
    }

    public func auditLog() async throws -> [AuditEntry] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit ORDER BY sequence").map { row in
                AuditEntry(sequence: row["sequence"], at: Timestamp.date(row["at"]), atText: row["at"], kind: row["kind"],
                           subject: row["subject"], detail: row["detail"], previousHash: row["previous_hash"],
                           hash: row["hash"])
            }
        }
    }

    private static func audit(_ db: Database, kind: String, subject: String, detail: String) throws {
        let previous = try Row.fetchOne(db, sql: "SELECT sequence, hash FROM audit ORDER BY sequence DESC LIMIT 1")
        let sequence = (previous?["sequence"] as Int? ?? 0) + 1
        let previousHash = previous?["hash"] as String? ?? AuditChain.genesis
        let at = Timestamp.string(Date())
        let hash = AuditChain.hash(sequence: sequence, at: at, kind: kind, subject: subject, detail: detail,
                                   previousHash: previousHash)
        try db.execute(sql: """
            INSERT INTO audit (sequence, at, kind, subject, detail, previous_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)
            """, arguments: [sequence, at, kind, subject, detail, previousHash, hash])
    }
}

/// The hash that links each audit entry to the one before it.
public enum AuditChain {
    /// The "previous hash" of the first entry.
    public static let genesis = String(repeating: "0", count: 64)

    public static func hash(sequence: Int, at: String, kind: String, subject: String, detail: String,
                            previousHash: String) -> String {
        let text = [String(sequence), at, kind, subject, detail, previousHash].joined(separator: "\u{1F}")
        return Hex.string(SHA256.hash(data: Array(text.utf8)))
    }
}
