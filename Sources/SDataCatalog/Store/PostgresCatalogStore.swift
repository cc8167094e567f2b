public import Foundation
import Logging
import PostgresNIO
import NIOSSL
import SDataCore

/// The catalog store on a PostgreSQL server (PostgresNIO): for several workers on several machines.
///
/// Same tables, migrations (by name, forward-only, recorded in `sdata_migrations`) and guarantees as
/// ``SQLiteCatalogStore``. Writes that touch the audit chain or the privacy ledger take one transaction-scoped
/// advisory lock, so the hash chain stays linear and two releases cannot both pass a budget; leases are single
/// atomic upserts; the run queue is claimed with `FOR UPDATE SKIP LOCKED`, as Airflow 2's HA scheduler does.
/// Migrations run on first use, under their own advisory lock, so workers starting together migrate once.
public final class PostgresCatalogStore: CatalogStore {
    private let client: PostgresClient
    private let location: PostgresLocation
    private let runTask: Task<Void, Never>
    private let ready: Ready
    private let logger: Logger
    /// The URL with its password masked, for messages.
    public let displayURL: String

    /// Advisory lock keys: one for writers of the audit chain and the ledger, one for migrations.
    private static let writeLock: Int64 = 0x5344_6174_6101
    private static let migrationLock: Int64 = 0x5344_6174_6102

    /// Opens a store at `url` (`postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require]`,
    /// or `postgres:///database?host=/socket/dir`). A password missing from the URL is taken from `PGPASSWORD`.
    /// Connects lazily: the first call connects and migrates, and reports a server that cannot be reached.
    public init(url: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let location = try PostgresLocation(url, environment: environment)
        self.location = location
        displayURL = location.display
        var logger = Logger(label: "sdata.postgres")
        logger.logLevel = .critical
        self.logger = logger
        client = PostgresClient(configuration: location.configuration, backgroundLogger: logger)
        let client = client
        runTask = Task { await client.run() }
        ready = Ready()
    }

    deinit {
        runTask.cancel()
    }

    // MARK: - Connection and migrations

    /// Named, ordered, forward-only migrations, the same names as SQLite's. Never edit a shipped one: add one.
    static let migrations: [(name: String, statements: [String])] = [
        ("v1-runs-versions-bookmarks-audit", [
            """
            CREATE TABLE runs (
                id TEXT PRIMARY KEY, pipeline TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT,
                status TEXT NOT NULL, rows_in BIGINT NOT NULL DEFAULT 0, rows_out BIGINT NOT NULL DEFAULT 0,
                rows_suppressed BIGINT NOT NULL DEFAULT 0, version BIGINT, error TEXT, spec_hash TEXT NOT NULL)
            """,
            "CREATE INDEX runs_by_pipeline ON runs(pipeline, started_at)",
            """
            CREATE TABLE versions (
                dataset TEXT NOT NULL, number BIGINT NOT NULL, run_id TEXT NOT NULL REFERENCES runs(id),
                created_at TEXT NOT NULL, content_hash TEXT NOT NULL, row_count BIGINT NOT NULL, title TEXT NOT NULL,
                schema_json TEXT NOT NULL, lineage_json TEXT NOT NULL, governance_json TEXT NOT NULL,
                PRIMARY KEY (dataset, number))
            """,
            """
            CREATE TABLE distributions (
                dataset TEXT NOT NULL, number BIGINT NOT NULL, format TEXT NOT NULL, path TEXT NOT NULL,
                media_type TEXT NOT NULL, bytes BIGINT NOT NULL, sha256 TEXT NOT NULL,
                PRIMARY KEY (dataset, number, format),
                FOREIGN KEY (dataset, number) REFERENCES versions(dataset, number))
            """,
            "CREATE TABLE bookmarks (pipeline TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL)",
            """
            CREATE TABLE audit (
                sequence BIGINT PRIMARY KEY, at TEXT NOT NULL, kind TEXT NOT NULL, subject TEXT NOT NULL,
                detail TEXT NOT NULL, previous_hash TEXT NOT NULL, hash TEXT NOT NULL)
            """,
            """
            CREATE FUNCTION sdata_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$
            """,
            """
            CREATE TRIGGER audit_no_update_delete BEFORE UPDATE OR DELETE ON audit
                FOR EACH ROW EXECUTE FUNCTION sdata_audit_append_only()
            """,
            """
            CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
                FOR EACH STATEMENT EXECUTE FUNCTION sdata_audit_append_only()
            """,
        ]),
        ("v2-raw-keys-retention-holds", [
            """
            CREATE TABLE raw_extracts (
                run_id TEXT PRIMARY KEY REFERENCES runs(id), pipeline TEXT NOT NULL, created_at TEXT NOT NULL,
                destroyed_at TEXT, destroyed_reason TEXT)
            """,
            "CREATE TABLE raw_keys (run_id TEXT PRIMARY KEY REFERENCES raw_extracts(run_id), key BYTEA NOT NULL)",
            "ALTER TABLE versions ADD COLUMN withdrawn_at TEXT",
            "ALTER TABLE versions ADD COLUMN withdrawn_reason TEXT",
            """
            CREATE TABLE holds (
                id BIGSERIAL PRIMARY KEY, dataset TEXT, run_id TEXT, reason TEXT NOT NULL, created_at TEXT NOT NULL,
                released_at TEXT)
            """,
        ]),
        ("v3-privacy-ledger", [
            """
            CREATE TABLE privacy_ledger (
                id BIGSERIAL PRIMARY KEY, dataset TEXT NOT NULL, run_id TEXT NOT NULL,
                epsilon DOUBLE PRECISION NOT NULL, at TEXT NOT NULL)
            """,
            "CREATE INDEX privacy_ledger_by_dataset ON privacy_ledger(dataset)",
        ]),
        ("v4-leases", [
            """
            CREATE TABLE leases (
                name TEXT PRIMARY KEY, holder TEXT NOT NULL, acquired_at DOUBLE PRECISION NOT NULL,
                expires_at DOUBLE PRECISION NOT NULL)
            """,
        ]),
        ("v5-run-queue-distribution-order", [
            """
            CREATE TABLE run_queue (
                id BIGSERIAL PRIMARY KEY, pipeline TEXT NOT NULL, key TEXT NOT NULL, enqueued_at TEXT NOT NULL,
                state TEXT NOT NULL, worker TEXT, heartbeat_at DOUBLE PRECISION, attempts BIGINT NOT NULL DEFAULT 0,
                run_id TEXT, outcome TEXT, UNIQUE (pipeline, key))
            """,
            "CREATE INDEX run_queue_by_state ON run_queue(state, id)",
            "ALTER TABLE distributions ADD COLUMN position BIGINT NOT NULL DEFAULT 0",
        ]),
    ]

    /// Waits for the schema to be current (migrating it on the first call).
    private func prepared() async throws {
        try await ready.once { try await self.migrate() }
    }

    private func migrate() async throws {
        // One direct connection first: an unreachable server or a refused login fails here within the connect
        // timeout, with the server's reason, instead of inside the pool's retries.
        do {
            let connection = try await PostgresConnection.connect(configuration: try location.probeConfiguration(), id: 0,
                                                                  logger: logger)
            try await connection.close()
        } catch let error as PSQLError {
            throw describe(error)
        } catch {
            throw CatalogError("PostgreSQL store at \(displayURL): cannot connect: \(error)")
        }
        try await transaction(lock: PostgresCatalogStore.migrationLock) { connection in
            try await connection.query("""
                CREATE TABLE IF NOT EXISTS sdata_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)
                """, logger: self.logger)
            var applied: Set<String> = []
            for try await name in try await connection.query("SELECT name FROM sdata_migrations", logger: self.logger)
                .decode(String.self) {
                applied.insert(name)
            }
            for migration in PostgresCatalogStore.migrations where !applied.contains(migration.name) {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                }
                try await connection.query("""
                    INSERT INTO sdata_migrations (name, applied_at) VALUES (\(migration.name), \(Timestamp.string(Date())))
                    """, logger: self.logger)
            }
        }
    }

    /// The names of the migrations applied, in order (for `sdata store status` and the tests).
    public func appliedMigrations() async throws -> [String] {
        try await prepared()
        return try await rows("SELECT name FROM sdata_migrations ORDER BY name") { try $0.decode(String.self) }
    }

    /// Runs `body` in a transaction; with `lock`, first takes that advisory lock (released at commit or rollback).
    private func transaction<T: Sendable>(lock: Int64? = writeLock,
                                          _ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await translatingErrors {
            try await client.withConnection { connection in
                try await connection.query("BEGIN", logger: logger)
                do {
                    if let lock { try await connection.query("SELECT pg_advisory_xact_lock(\(lock))", logger: logger) }
                    let result = try await body(connection)
                    try await connection.query("COMMIT", logger: logger)
                    return result
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: logger)
                    throw error
                }
            }
        }
    }

    private func execute(_ query: PostgresQuery) async throws {
        try await prepared()
        try await translatingErrors { try await client.query(query, logger: logger) }
    }

    private func rows<T>(_ query: PostgresQuery, _ transform: (PostgresRow) throws -> T) async throws -> [T] {
        try await prepared()
        return try await translatingErrors {
            var result: [T] = []
            for try await row in try await client.query(query, logger: logger) { result.append(try transform(row)) }
            return result
        }
    }

    /// Every error leaves as a ``CatalogError`` naming the store (password masked), or as cancellation.
    @discardableResult
    private func translatingErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PSQLError {
            throw describe(error)
        } catch let error as CatalogError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw CatalogError("PostgreSQL store at \(displayURL): \(error)")
        }
    }

    /// A sentence for a PostgreSQL error: the server's message and SQLSTATE, never the bound values (PostgresNIO
    /// hides everything by default; the detail field, which can quote values, is left out).
    private func describe(_ error: PSQLError) -> CatalogError {
        if let message = error.serverInfo?[.message] {
            let state = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            return CatalogError("PostgreSQL store at \(displayURL): \(message)\(state)")
        }
        let underlying = error.underlying.map { ": \(String(describing: $0))" } ?? ""
        return CatalogError("PostgreSQL store at \(displayURL): \(error.code)\(underlying)")
    }

    // MARK: - Runs

    public func beginRun(_ run: RunRecord) async throws {
        try await execute("""
            INSERT INTO runs (id, pipeline, started_at, status, spec_hash)
            VALUES (\(run.id), \(run.pipeline), \(Timestamp.string(run.startedAt)), \(run.status.rawValue), \(run.specHash))
            """)
    }

    public func finishRun(_ run: RunRecord) async throws {
        try await prepared()
        try await transaction { connection in
            try await connection.query("""
                UPDATE runs SET finished_at = \(run.finishedAt.map(Timestamp.string)), status = \(run.status.rawValue),
                    rows_in = \(run.rowsIn), rows_out = \(run.rowsOut), rows_suppressed = \(run.rowsSuppressed),
                    version = \(run.version), error = \(run.error) WHERE id = \(run.id)
                """, logger: self.logger)
            try await self.auditFinished(connection, run)
        }
    }

    private func auditFinished(_ connection: PostgresConnection, _ run: RunRecord) async throws {
        try await audit(connection, kind: "run.\(run.status.rawValue)", subject: run.pipeline,
                        detail: "run \(run.id)" + (run.version.map { " version \($0)" } ?? ""))
    }

    public func failStaleRuns(now: Date, reason: String) async throws -> [RunRecord] {
        try await prepared()
        return try await transaction { connection in
            // One statement, one snapshot: a run recorded as running had its lease committed before it began, so
            // the snapshot that shows the run shows its lease too, unless that lease has expired.
            var failed: [RunRecord] = []
            for try await row in try await connection.query("""
                UPDATE runs SET status = 'failed', finished_at = \(Timestamp.string(now)), error = \(reason)
                WHERE status = 'running' AND NOT EXISTS (
                    SELECT 1 FROM leases WHERE leases.name = 'pipeline:' || runs.pipeline
                        AND leases.expires_at > \(now.timeIntervalSince1970))
                RETURNING \(unescaped: Self.runColumns)
                """, logger: self.logger) {
                failed.append(try Self.run(row))
            }
            for run in failed { try await self.auditFinished(connection, run) }
            return failed
        }
    }

    public func runs(pipeline: String?, limit: Int) async throws -> [RunRecord] {
        if let pipeline {
            return try await rows("""
                SELECT \(unescaped: Self.runColumns) FROM runs WHERE pipeline = \(pipeline)
                ORDER BY started_at DESC, id DESC LIMIT \(limit)
                """, Self.run)
        }
        return try await rows("""
            SELECT \(unescaped: Self.runColumns) FROM runs ORDER BY started_at DESC, id DESC LIMIT \(limit)
            """, Self.run)
    }

    public func runningRuns() async throws -> [RunRecord] {
        try await rows("SELECT \(unescaped: Self.runColumns) FROM runs WHERE status = 'running'", Self.run)
    }

    private static let runColumns = "id, pipeline, started_at, finished_at, status, rows_in, rows_out, rows_suppressed, version, error, spec_hash"

    private static func run(_ row: PostgresRow) throws -> RunRecord {
        let (id, pipeline, started, finished, status, rowsIn, rowsOut, suppressed, version, error, specHash) = try row.decode(
            (String, String, String, String?, String, Int, Int, Int, Int?, String?, String).self)
        var run = RunRecord(id: id, pipeline: pipeline, startedAt: Timestamp.date(started), specHash: specHash)
        run.finishedAt = finished.map(Timestamp.date)
        run.status = RunStatus(rawValue: status) ?? .failed
        run.rowsIn = rowsIn
        run.rowsOut = rowsOut
        run.rowsSuppressed = suppressed
        run.version = version
        run.error = error
        return run
    }

    // MARK: - Versions

    private static let versionColumns = """
        dataset, number, run_id, created_at, content_hash, row_count, title, schema_json, lineage_json, governance_json,
        withdrawn_at, withdrawn_reason
        """

    public func latestVersion(dataset: String) async throws -> VersionRecord? {
        let found = try await rows("""
            SELECT \(unescaped: Self.versionColumns) FROM versions WHERE dataset = \(dataset) AND withdrawn_at IS NULL
            ORDER BY number DESC LIMIT 1
            """, Self.version)
        return try await withDistributions(found).first
    }

    public func versions(dataset: String) async throws -> [VersionRecord] {
        try await withDistributions(try await rows("""
            SELECT \(unescaped: Self.versionColumns) FROM versions WHERE dataset = \(dataset) ORDER BY number
            """, Self.version))
    }

    public func datasets() async throws -> [String] {
        try await rows("SELECT DISTINCT dataset FROM versions ORDER BY dataset") { try $0.decode(String.self) }
    }

    private static func version(_ row: PostgresRow) throws -> VersionRecord {
        let columns = row.makeRandomAccess()
        var record = VersionRecord(
            dataset: try columns[0].decode(String.self), number: try columns[1].decode(Int.self),
            runId: try columns[2].decode(String.self), createdAt: Timestamp.date(try columns[3].decode(String.self)),
            contentHash: try columns[4].decode(String.self), rowCount: try columns[5].decode(Int.self),
            title: try columns[6].decode(String.self), schemaJSON: try columns[7].decode(String.self),
            lineageJSON: try columns[8].decode(String.self), governanceJSON: try columns[9].decode(String.self),
            distributions: [])
        record.withdrawnAt = try columns[10].decode(String?.self).map(Timestamp.date)
        record.withdrawnReason = try columns[11].decode(String?.self)
        return record
    }

    private func withDistributions(_ versions: [VersionRecord]) async throws -> [VersionRecord] {
        guard let dataset = versions.first?.dataset else { return versions }
        var byNumber: [Int: [DistributionRecord]] = [:]
        let numbers = versions.map(\.number)
        for (number, distribution) in try await rows("""
            SELECT number, format, path, media_type, bytes, sha256 FROM distributions
            WHERE dataset = \(dataset) AND number = ANY(\(numbers)) ORDER BY number, position
            """, { row in
                let (number, format, path, mediaType, bytes, sha256) = try row.decode((Int, String, String, String, Int, String).self)
                return (number, DistributionRecord(format: format, path: path, mediaType: mediaType, bytes: bytes, sha256: sha256))
            }) {
            byNumber[number, default: []].append(distribution)
        }
        return versions.map { version in
            var version = version
            version.distributions = byNumber[version.number] ?? []
            return version
        }
    }

    public func recordVersion(_ version: VersionRecord, charge: PrivacyCharge?) async throws {
        try await prepared()
        try await transaction { connection in
            if let charge { try await self.charge(connection, dataset: version.dataset, runId: version.runId, charge) }
            try await connection.query("""
                INSERT INTO versions (dataset, number, run_id, created_at, content_hash, row_count, title, schema_json,
                    lineage_json, governance_json)
                VALUES (\(version.dataset), \(version.number), \(version.runId), \(Timestamp.string(version.createdAt)),
                    \(version.contentHash), \(version.rowCount), \(version.title), \(version.schemaJSON),
                    \(version.lineageJSON), \(version.governanceJSON))
                """, logger: self.logger)
            for (position, distribution) in version.distributions.enumerated() {
                try await connection.query("""
                    INSERT INTO distributions (dataset, number, format, path, media_type, bytes, sha256, position)
                    VALUES (\(version.dataset), \(version.number), \(distribution.format), \(distribution.path),
                        \(distribution.mediaType), \(distribution.bytes), \(distribution.sha256), \(position))
                    """, logger: self.logger)
            }
            try await self.audit(connection, kind: "version.published", subject: version.dataset,
                                 detail: "version \(version.number) content \(version.contentHash)")
        }
    }

    // MARK: - Raw extracts and retention

    public func storeRawKey(_ key: [UInt8], runId: String, pipeline: String) async throws {
        try await prepared()
        try await transaction(lock: nil) { connection in
            try await connection.query("""
                INSERT INTO raw_extracts (run_id, pipeline, created_at) VALUES (\(runId), \(pipeline), \(Timestamp.string(Date())))
                """, logger: self.logger)
            try await connection.query("INSERT INTO raw_keys (run_id, key) VALUES (\(runId), \(Data(key)))", logger: self.logger)
        }
    }

    public func rawKey(runId: String) async throws -> [UInt8]? {
        try await rows("SELECT key FROM raw_keys WHERE run_id = \(runId)") { [UInt8](try $0.decode(Data.self)) }.first
    }

    public func rawExtracts() async throws -> [RawExtract] {
        try await rows("""
            SELECT e.run_id, e.pipeline, e.created_at, e.destroyed_at, k.run_id IS NOT NULL FROM raw_extracts e
            LEFT JOIN raw_keys k ON k.run_id = e.run_id ORDER BY e.created_at
            """) { row in
            let (runId, pipeline, created, destroyed, hasKey) = try row.decode((String, String, String, String?, Bool).self)
            return RawExtract(runId: runId, pipeline: pipeline, createdAt: Timestamp.date(created),
                              destroyedAt: destroyed.map(Timestamp.date), hasKey: hasKey)
        }
    }

    public func destroyRawKey(runId: String, reason: String) async throws {
        try await prepared()
        try await transaction { connection in
            try await connection.query("DELETE FROM raw_keys WHERE run_id = \(runId)", logger: self.logger)
            try await connection.query("""
                UPDATE raw_extracts SET destroyed_at = \(Timestamp.string(Date())), destroyed_reason = \(reason)
                WHERE run_id = \(runId) AND destroyed_at IS NULL
                """, logger: self.logger)
            try await self.audit(connection, kind: "raw.key_destroyed", subject: runId, detail: reason)
        }
    }

    public func withdrawVersion(dataset: String, number: Int, reason: String) async throws {
        try await prepared()
        try await transaction { connection in
            try await connection.query("""
                UPDATE versions SET withdrawn_at = \(Timestamp.string(Date())), withdrawn_reason = \(reason)
                WHERE dataset = \(dataset) AND number = \(number)
                """, logger: self.logger)
            try await self.audit(connection, kind: "version.withdrawn", subject: dataset, detail: "version \(number): \(reason)")
        }
    }

    public func addHold(dataset: String?, runId: String?, reason: String) async throws -> Int {
        try await prepared()
        return try await transaction { connection in
            var id = 0
            for try await value in try await connection.query("""
                INSERT INTO holds (dataset, run_id, reason, created_at)
                VALUES (\(dataset), \(runId), \(reason), \(Timestamp.string(Date()))) RETURNING id
                """, logger: self.logger).decode(Int.self) {
                id = value
            }
            try await self.audit(connection, kind: "hold.placed", subject: dataset ?? runId ?? "", detail: "hold \(id): \(reason)")
            return id
        }
    }

    public func releaseHold(id: Int) async throws -> Bool {
        try await prepared()
        return try await transaction { connection in
            var released = false
            for try await _ in try await connection.query("""
                UPDATE holds SET released_at = \(Timestamp.string(Date())) WHERE id = \(id) AND released_at IS NULL RETURNING id
                """, logger: self.logger) {
                released = true
            }
            guard released else { return false }
            try await self.audit(connection, kind: "hold.released", subject: "hold \(id)", detail: "released")
            return true
        }
    }

    public func activeHolds() async throws -> [LegalHold] {
        try await rows("SELECT id, dataset, run_id, reason, created_at FROM holds WHERE released_at IS NULL ORDER BY id") { row in
            let (id, dataset, runId, reason, created) = try row.decode((Int, String?, String?, String, String).self)
            return LegalHold(id: id, dataset: dataset, runId: runId, reason: reason, createdAt: Timestamp.date(created))
        }
    }

    // MARK: - Privacy budget

    public func privacySpent(dataset: String) async throws -> Double {
        try await rows("SELECT COALESCE(SUM(epsilon), 0)::float8 FROM privacy_ledger WHERE dataset = \(dataset)") {
            try $0.decode(Double.self)
        }.first ?? 0
    }

    /// Charges the ledger inside the caller's transaction (which holds the write lock, so two charges serialize).
    private func charge(_ connection: PostgresConnection, dataset: String, runId: String, _ charge: PrivacyCharge) async throws {
        var spent = 0.0
        for try await value in try await connection.query("""
            SELECT COALESCE(SUM(epsilon), 0)::float8 FROM privacy_ledger WHERE dataset = \(dataset)
            """, logger: logger).decode(Double.self) {
            spent = value
        }
        if let budget = charge.budget, spent + charge.epsilon > budget + 1e-9 {
            throw CatalogError("privacy budget exhausted for '\(dataset)': \(spent) of \(budget) already spent, "
                                   + "this release needs \(charge.epsilon); nothing was published")
        }
        try await connection.query("""
            INSERT INTO privacy_ledger (dataset, run_id, epsilon, at)
            VALUES (\(dataset), \(runId), \(charge.epsilon), \(Timestamp.string(Date())))
            """, logger: logger)
        try await audit(connection, kind: "privacy.charged", subject: dataset,
                        detail: "run \(runId): epsilon \(charge.epsilon), spent \(spent + charge.epsilon)"
                            + (charge.budget.map { " of \($0)" } ?? ""))
    }

    // MARK: - Bookmarks

    public func bookmark(pipeline: String) async throws -> String? {
        try await rows("SELECT value FROM bookmarks WHERE pipeline = \(pipeline)") { try $0.decode(String.self) }.first
    }

    public func setBookmark(_ value: String, pipeline: String) async throws {
        try await execute("""
            INSERT INTO bookmarks (pipeline, value, updated_at) VALUES (\(pipeline), \(value), \(Timestamp.string(Date())))
            ON CONFLICT (pipeline) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
            """)
    }

    // MARK: - Leases

    public func acquireLease(_ name: String, holder: String, ttl: TimeInterval, now: Date) async throws -> Bool {
        let time = now.timeIntervalSince1970
        // One statement: insert, or take over when the lease is ours already or has expired. When neither, the
        // conflicting row is left alone and nothing is returned.
        return try await !rows("""
            INSERT INTO leases (name, holder, acquired_at, expires_at) VALUES (\(name), \(holder), \(time), \(time + ttl))
            ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, acquired_at = excluded.acquired_at,
                expires_at = excluded.expires_at
            WHERE leases.holder = excluded.holder OR leases.expires_at < \(time)
            RETURNING holder
            """) { try $0.decode(String.self) }.isEmpty
    }

    public func renewLease(_ name: String, holder: String, ttl: TimeInterval, now: Date) async throws -> Bool {
        try await !rows("""
            UPDATE leases SET expires_at = \(now.timeIntervalSince1970 + ttl) WHERE name = \(name) AND holder = \(holder)
            RETURNING name
            """) { try $0.decode(String.self) }.isEmpty
    }

    public func releaseLease(_ name: String, holder: String) async throws {
        // Detached: a cancelled task's query would be abandoned (see the protocol).
        try await Task.detached {
            try await self.execute("DELETE FROM leases WHERE name = \(name) AND holder = \(holder)")
        }.value
    }

    public func leases() async throws -> [Lease] {
        try await rows("SELECT name, holder, acquired_at, expires_at FROM leases ORDER BY name") { row in
            let (name, holder, acquired, expires) = try row.decode((String, String, Double, Double).self)
            return Lease(name: name, holder: holder, acquiredAt: Date(timeIntervalSince1970: acquired),
                         expiresAt: Date(timeIntervalSince1970: expires))
        }
    }

    // MARK: - Run queue

    private static let queueColumns = "id, pipeline, key, enqueued_at, state, worker, heartbeat_at, attempts, run_id, outcome"

    private static func queued(_ row: PostgresRow) throws -> QueuedRun {
        let (id, pipeline, key, enqueued, state, worker, heartbeat, attempts, runId, outcome) = try row.decode(
            (Int, String, String, String, String, String?, Double?, Int, String?, String?).self)
        return QueuedRun(id: id, pipeline: pipeline, key: key, enqueuedAt: Timestamp.date(enqueued),
                         state: QueuedRun.State(rawValue: state) ?? .failed, worker: worker,
                         heartbeatAt: heartbeat.map(Date.init(timeIntervalSince1970:)), attempts: attempts, runId: runId,
                         outcome: outcome)
    }

    public func enqueueRun(pipeline: String, key: String, now: Date) async throws -> Bool {
        try await !rows("""
            INSERT INTO run_queue (pipeline, key, enqueued_at, state) VALUES (\(pipeline), \(key), \(Timestamp.string(now)), 'queued')
            ON CONFLICT (pipeline, key) DO NOTHING RETURNING id
            """) { try $0.decode(Int.self) }.isEmpty
    }

    public func claimRun(_ request: ClaimRequest) async throws -> QueuedRun? {
        guard !request.pipelines.isEmpty else { return nil }
        let stale = request.now.timeIntervalSince1970 - request.staleAfter
        let now = request.now.timeIntervalSince1970
        try await execute("""
            UPDATE run_queue SET state = 'failed',
                outcome = 'abandoned: claimed ' || attempts || ' times by workers that stopped before finishing it'
            WHERE state = 'claimed' AND heartbeat_at < \(stale) AND attempts >= \(request.maxAttempts)
              AND pipeline = ANY(\(request.pipelines))
            """)
        // The row lock is held only by this statement: a second worker skips the locked row and takes the next one.
        return try await rows("""
            UPDATE run_queue SET state = 'claimed', worker = \(request.worker), heartbeat_at = \(now), attempts = attempts + 1
            WHERE id = (
                SELECT q.id FROM run_queue q
                WHERE (q.state = 'queued' OR (q.state = 'claimed' AND q.heartbeat_at < \(stale)))
                  AND q.pipeline = ANY(\(request.pipelines))
                  AND NOT EXISTS (SELECT 1 FROM run_queue c WHERE c.pipeline = q.pipeline AND c.id <> q.id
                                  AND c.state = 'claimed' AND c.heartbeat_at >= \(stale))
                ORDER BY q.id FOR UPDATE SKIP LOCKED LIMIT 1)
            AND (state = 'queued' OR heartbeat_at < \(stale))
            RETURNING \(unescaped: Self.queueColumns)
            """, Self.queued).first
    }

    public func heartbeatRun(id: Int, worker: String, now: Date) async throws -> Bool {
        try await !rows("""
            UPDATE run_queue SET heartbeat_at = \(now.timeIntervalSince1970)
            WHERE id = \(id) AND worker = \(worker) AND state = 'claimed' RETURNING id
            """) { try $0.decode(Int.self) }.isEmpty
    }

    public func unclaimRun(id: Int, worker: String) async throws {
        try await execute("""
            UPDATE run_queue SET state = 'queued', worker = NULL, heartbeat_at = NULL, attempts = attempts - 1
            WHERE id = \(id) AND worker = \(worker) AND state = 'claimed'
            """)
    }

    public func finishQueuedRun(id: Int, worker: String, state: QueuedRun.State, runId: String?, outcome: String) async throws {
        try await execute("""
            UPDATE run_queue SET state = \(state.rawValue), run_id = \(runId), outcome = \(outcome)
            WHERE id = \(id) AND worker = \(worker) AND state = 'claimed'
            """)
    }

    public func queuedRuns(pipeline: String?, limit: Int) async throws -> [QueuedRun] {
        if let pipeline {
            return try await rows("""
                SELECT \(unescaped: Self.queueColumns) FROM run_queue WHERE pipeline = \(pipeline) ORDER BY id DESC LIMIT \(limit)
                """, Self.queued)
        }
        return try await rows("SELECT \(unescaped: Self.queueColumns) FROM run_queue ORDER BY id DESC LIMIT \(limit)", Self.queued)
    }

    // MARK: - Transfer

    public func exportRows(_ table: StoreTable) async throws -> [[StoreCell]] {
        try await rows(PostgresQuery(unsafeSQL: table.selectSQL)) { row in
            let columns = row.makeRandomAccess()
            return try table.columns.indices.map { index -> StoreCell in
                let cell = columns[index]
                guard cell.bytes != nil else { return .null }
                switch table.columns[index].kind {
                case .text: return .text(try cell.decode(String.self))
                case .integer: return .integer(try cell.decode(Int.self))
                case .real: return .real(try cell.decode(Double.self))
                case .blob: return .blob([UInt8](try cell.decode(Data.self)))
                }
            }
        }
    }

    public func importRows(_ tables: [(StoreTable, [[StoreCell]])]) async throws {
        guard try await isEmpty() else {
            throw CatalogError("the PostgreSQL store at \(displayURL) already holds a catalog; migrate into an empty database")
        }
        try await transaction { connection in
            for (table, rows) in tables {
                if table.name != "audit" {
                    try await connection.query(PostgresQuery(unsafeSQL: "DELETE FROM \(table.name)"), logger: self.logger)
                }
                let columns = table.columns.map(\.name)
                let placeholders = columns.indices.map { "$\($0 + 1)" }.joined(separator: ", ")
                let sql = "INSERT INTO \(table.name) (\(columns.joined(separator: ", "))) VALUES (\(placeholders))"
                for row in rows {
                    var binds = PostgresBindings()
                    for (cell, column) in zip(row, table.columns) {
                        switch cell {
                        case .null:
                            // A typed NULL: an untyped one is taken as text, which an integer column refuses.
                            switch column.kind {
                            case .text: binds.append(String?.none)
                            case .integer: binds.append(Int?.none)
                            case .real: binds.append(Double?.none)
                            case .blob: try binds.append(Data?.none)
                            }
                        case .integer(let value): binds.append(value)
                        case .real(let value): binds.append(value)
                        case .text(let value): binds.append(value)
                        case .blob(let value): try binds.append(Data(value))
                        }
                    }
                    try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: self.logger)
                }
                if table.columns.contains(where: { $0.name == "id" && $0.kind == .integer }) {
                    // Serial columns continue after the imported ids.
                    try await connection.query(PostgresQuery(unsafeSQL: """
                        SELECT setval(pg_get_serial_sequence('\(table.name)', 'id'), COALESCE(MAX(id), 0) + 1, false)
                        FROM \(table.name)
                        """), logger: self.logger)
                }
            }
        }
    }

    public func countRows(_ table: StoreTable) async throws -> Int {
        try await rows(PostgresQuery(unsafeSQL: "SELECT COUNT(*) FROM \(table.name)")) { try $0.decode(Int.self) }.first ?? 0
    }

    public func isEmpty() async throws -> Bool {
        try await rows("""
            SELECT (SELECT COUNT(*) FROM runs) + (SELECT COUNT(*) FROM versions) + (SELECT COUNT(*) FROM audit)
            """) { try $0.decode(Int.self) }.first == 0
    }

    // MARK: - Audit

    public func appendAudit(kind: String, subject: String, detail: String) async throws {
        try await prepared()
        try await transaction { connection in
            try await self.audit(connection, kind: kind, subject: subject, detail: detail)
        }
    }

    public func auditLog() async throws -> [AuditEntry] {
        try await rows("SELECT sequence, at, kind, subject, detail, previous_hash, hash FROM audit ORDER BY sequence") { row in
            let (sequence, at, kind, subject, detail, previous, hash) = try row.decode(
                (Int, String, String, String, String, String, String).self)
            return AuditEntry(sequence: sequence, at: Timestamp.date(at), atText: at, kind: kind, subject: subject,
                              detail: detail, previousHash: previous, hash: hash)
        }
    }

    /// Appends an audit entry inside the caller's transaction, which holds the write lock: entries link in order.
    private func audit(_ connection: PostgresConnection, kind: String, subject: String, detail: String) async throws {
        var sequence = 1
        var previousHash = AuditChain.genesis
        for try await (last, hash) in try await connection.query(
            "SELECT sequence, hash FROM audit ORDER BY sequence DESC LIMIT 1", logger: logger).decode((Int, String).self) {
            sequence = last + 1
            previousHash = hash
        }
        let at = Timestamp.string(Date())
        let hash = AuditChain.hash(sequence: sequence, at: at, kind: kind, subject: subject, detail: detail,
                                   previousHash: previousHash)
        try await connection.query("""
            INSERT INTO audit (sequence, at, kind, subject, detail, previous_hash, hash)
            VALUES (\(sequence), \(at), \(kind), \(subject), \(detail), \(previousHash), \(hash))
            """, logger: logger)
    }
}

/// Runs a piece of work once, the first time it is needed; callers meanwhile wait for it. A failure is not kept: the
/// next caller tries again (a server that was down at first use).
private actor Ready {
    private var done = false
    private var running: Task<Void, any Error>?

    func once(_ work: @escaping @Sendable () async throws -> Void) async throws {
        if done { return }
        if let running { return try await running.value }
        let task = Task { try await work() }
        running = task
        do {
            try await task.value
            done = true
        } catch {
            running = nil
            throw error
        }
    }
}

/// A `postgres://` URL taken apart into PostgresNIO's configuration.
struct PostgresLocation: Sendable {
    let configuration: PostgresClient.Configuration
    let display: String
    private let socketDirectory: String?
    private let host: String
    private let port: Int
    private let user: String
    private let password: String?
    private let database: String
    private let sslMode: String

    /// The same server and login for a single connection (PostgresNIO configures it separately).
    func probeConfiguration() throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if let socketDirectory {
            configuration = .init(unixSocketPath: socketDirectory + "/.s.PGSQL.\(port)", username: user, password: password,
                                  database: database)
        } else {
            let tls: PostgresConnection.Configuration.TLS = switch sslMode {
            case "disable": .disable
            case "require", "verify-ca", "verify-full": .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            default: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
            configuration = .init(host: host, port: port, username: user, password: password, database: database, tls: tls)
        }
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    init(_ url: String, environment: [String: String]) throws {
        guard let components = URLComponents(string: url),
              components.scheme == "postgres" || components.scheme == "postgresql" else {
            throw CatalogError("the store URL is not a PostgreSQL URL (postgres://user@host:port/database)")
        }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        let user = components.user ?? environment["PGUSER"] ?? "postgres"
        let password = components.password ?? environment["PGPASSWORD"]
        var database = String(components.path.drop(while: { $0 == "/" }))
        if database.isEmpty { database = environment["PGDATABASE"] ?? user }
        let socketDirectory = query["host"].flatMap { $0.hasPrefix("/") ? $0 : nil }
        var configuration: PostgresClient.Configuration
        if let socketDirectory {
            configuration = .init(unixSocketPath: socketDirectory + "/.s.PGSQL.\(components.port ?? 5432)", username: user,
                                  password: password, database: database)
        } else {
            let tls: PostgresClient.Configuration.TLS
            switch query["sslmode"] ?? "prefer" {
            case "disable": tls = .disable
            case "prefer", "allow": tls = .prefer(.makeClientConfiguration())
            case "require", "verify-ca", "verify-full": tls = .require(.makeClientConfiguration())
            case let other: throw CatalogError("unknown sslmode '\(other)' in the PostgreSQL URL (disable, prefer or require)")
            }
            configuration = .init(host: components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "localhost",
                                  port: components.port ?? 5432, username: user, password: password,
                                  database: database, tls: tls)
        }
        configuration.options.maximumConnections = 8
        configuration.options.connectTimeout = .seconds(5)
        self.configuration = configuration
        self.socketDirectory = socketDirectory
        self.host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "localhost"
        self.port = components.port ?? 5432
        self.user = user
        self.password = password
        self.database = database
        self.sslMode = query["sslmode"] ?? "prefer"
        var shown = components
        if shown.password != nil { shown.password = "***" }
        display = shown.string ?? "postgres://"
    }
}
