public import Foundation

/// The catalog's state: runs, versions and their distributions, bookmarks and the audit log.
///
/// Implementations must make ``recordVersion(_:)`` atomic (the version, its distributions and its audit entry are
/// committed together or not at all), keep the audit log append-only and hash-chained, and be safe to call from
/// several tasks. The embedded default is ``SQLiteCatalogStore``.
public protocol CatalogStore: RunQueue, StoreTransfer, Sendable {
    func beginRun(_ run: RunRecord) async throws
    func finishRun(_ run: RunRecord) async throws
    func runs(pipeline: String?, limit: Int) async throws -> [RunRecord]
    /// Runs still marked running (after a crash they are stale).
    func runningRuns() async throws -> [RunRecord]
    /// Marks failed, with `reason` and an audit entry each, the runs still marked running whose pipeline lease
    /// (`pipeline:<id>`) is missing or expired at `now`: their process died. Atomic, so that a run whose process is
    /// just taking the lease and beginning the run is never caught between reading the leases and the runs.
    /// Returns the runs it marked.
    func failStaleRuns(now: Date, reason: String) async throws -> [RunRecord]

    func latestVersion(dataset: String) async throws -> VersionRecord?
    func versions(dataset: String) async throws -> [VersionRecord]
    func datasets() async throws -> [String]
    /// Records a published version and its audit entry in one transaction; with `charge`, also charges the privacy
    /// budget in the same transaction, refusing (throwing, recording nothing) when it would pass the budget.
    func recordVersion(_ version: VersionRecord, charge: PrivacyCharge?) async throws

    func bookmark(pipeline: String) async throws -> String?
    func setBookmark(_ value: String, pipeline: String) async throws

    /// Records a run's raw-extract key (crypto-shredding: destroying the key destroys the extract).
    func storeRawKey(_ key: [UInt8], runId: String, pipeline: String) async throws
    func rawKey(runId: String) async throws -> [UInt8]?
    func rawExtracts() async throws -> [RawExtract]
    /// Deletes a run's raw key and records why, with an audit entry, in one transaction.
    func destroyRawKey(runId: String, reason: String) async throws
    /// Marks a version withdrawn (the tombstone keeps its metadata) with an audit entry.
    func withdrawVersion(dataset: String, number: Int, reason: String) async throws
    func addHold(dataset: String?, runId: String?, reason: String) async throws -> Int
    func releaseHold(id: Int) async throws -> Bool
    func activeHolds() async throws -> [LegalHold]

    /// The ε a dataset's releases have spent.
    func privacySpent(dataset: String) async throws -> Double

    /// Takes the lease `name` for `ttl` seconds unless another holder has it and it has not expired (a holder that
    /// died stops renewing, so its lease is taken over after `ttl`). Atomic: of two callers at once, one wins.
    func acquireLease(_ name: String, holder: String, ttl: TimeInterval, now: Date) async throws -> Bool
    /// Extends a lease still held by `holder`; false when it was lost (expired and taken over).
    func renewLease(_ name: String, holder: String, ttl: TimeInterval, now: Date) async throws -> Bool
    /// Gives the lease up if `holder` still has it. Runs to completion even when the calling task is cancelled:
    /// releasing is the clean-up of a run or a lock that a shutdown (SIGTERM) is ending, and a lease left behind
    /// would keep every other process out until it expires.
    func releaseLease(_ name: String, holder: String) async throws
    func leases() async throws -> [Lease]

    func appendAudit(kind: String, subject: String, detail: String) async throws
    func auditLog() async throws -> [AuditEntry]
}

extension CatalogStore {
    public func recordVersion(_ version: VersionRecord) async throws {
        try await recordVersion(version, charge: nil)
    }
}

/// The privacy loss a release spends, and the dataset's total budget.
public struct PrivacyCharge: Sendable, Equatable {
    public var epsilon: Double
    public var budget: Double?

    public init(epsilon: Double, budget: Double?) {
        self.epsilon = epsilon
        self.budget = budget
    }
}

/// A named, expiring lock in the store: who holds it and until when.
public struct Lease: Sendable, Codable, Equatable {
    public var name: String
    public var holder: String
    public var acquiredAt: Date
    public var expiresAt: Date

    public init(name: String, holder: String, acquiredAt: Date, expiresAt: Date) {
        self.name = name
        self.holder = holder
        self.acquiredAt = acquiredAt
        self.expiresAt = expiresAt
    }

    public func isLive(at now: Date) -> Bool { expiresAt > now }
}

/// A run asked for — a schedule's firing, or an operator's request — waiting in the store until a worker claims it.
///
/// The queue is how several `sdata worker` processes share a night's schedule: each firing is enqueued once (the key
/// is unique per pipeline, so workers that plan the same firing at once add one entry), each entry is claimed by one
/// worker (`FOR UPDATE SKIP LOCKED` on PostgreSQL, a write transaction on SQLite), and a claim lives only while its
/// worker heartbeats: a worker that dies loses it after the stale timeout, and another worker takes the run over.
public struct QueuedRun: Sendable, Codable, Equatable {
    public enum State: String, Sendable, Codable {
        case queued, claimed, done, failed
    }

    public var id: Int
    public var pipeline: String
    /// What the request is for, unique per pipeline: a firing time (ISO 8601), `initial` (never ran) or `manual-…`.
    public var key: String
    public var enqueuedAt: Date
    public var state: State
    /// The worker holding (or that last held) the claim.
    public var worker: String?
    public var heartbeatAt: Date?
    /// How many times it was claimed: more than one means a worker died (or stalled) holding it.
    public var attempts: Int
    /// The run that served it (the last attempt's).
    public var runId: String?
    /// How it ended: a run status, or why it was abandoned.
    public var outcome: String?

    public init(id: Int, pipeline: String, key: String, enqueuedAt: Date, state: State, worker: String? = nil,
                heartbeatAt: Date? = nil, attempts: Int = 0, runId: String? = nil, outcome: String? = nil) {
        self.id = id
        self.pipeline = pipeline
        self.key = key
        self.enqueuedAt = enqueuedAt
        self.state = state
        self.worker = worker
        self.heartbeatAt = heartbeatAt
        self.attempts = attempts
        self.runId = runId
        self.outcome = outcome
    }

    enum CodingKeys: String, CodingKey {
        case id, pipeline, key, state, worker, attempts, outcome
        case enqueuedAt = "enqueued_at"
        case heartbeatAt = "heartbeat_at"
        case runId = "run_id"
    }
}

/// How a worker asks for the next run (see ``RunQueue/claimRun(_:)``).
public struct ClaimRequest: Sendable {
    public var worker: String
    /// Only runs of these pipelines (the specs this worker has).
    public var pipelines: [String]
    /// A claim whose heartbeat is older than this is taken over.
    public var staleAfter: TimeInterval
    /// A run claimed this many times without finishing is abandoned (marked failed) instead of claimed again.
    public var maxAttempts: Int
    public var now: Date

    public init(worker: String, pipelines: [String], staleAfter: TimeInterval, maxAttempts: Int = 3, now: Date = Date()) {
        self.worker = worker
        self.pipelines = pipelines
        self.staleAfter = staleAfter
        self.maxAttempts = maxAttempts
        self.now = now
    }
}

/// The store's run queue: shared by every worker on every machine.
public protocol RunQueue: Sendable {
    /// Adds a request unless one with the same pipeline and key exists; true when added.
    func enqueueRun(pipeline: String, key: String, now: Date) async throws -> Bool
    /// Claims the oldest queued run (or a claimed one whose worker stopped heartbeating) of the given pipelines,
    /// skipping pipelines another worker is running; one claimer wins each entry. Entries past `maxAttempts` become
    /// failed on the way.
    func claimRun(_ request: ClaimRequest) async throws -> QueuedRun?
    /// Refreshes a claim's heartbeat; false when the claim was lost (taken over after going stale).
    func heartbeatRun(id: Int, worker: String, now: Date) async throws -> Bool
    /// Puts a claimed run back in the queue unchanged (it could not start now: the pipeline was busy elsewhere).
    func unclaimRun(id: Int, worker: String) async throws
    /// Records how a claimed run ended (`done` or `failed`), if `worker` still holds it.
    func finishQueuedRun(id: Int, worker: String, state: QueuedRun.State, runId: String?, outcome: String) async throws
    /// The newest entries, of one pipeline or all, newest first.
    func queuedRuns(pipeline: String?, limit: Int) async throws -> [QueuedRun]
}

/// Moving a catalog's state between stores (`sdata store migrate`): every table, row for row, in a neutral form.
public protocol StoreTransfer: Sendable {
    /// A table's rows in ``StoreTable/exportOrder``, as neutral cells.
    func exportRows(_ table: StoreTable) async throws -> [[StoreCell]]
    /// Writes every table into this store in one transaction; refuses when the store already holds a catalog.
    func importRows(_ tables: [(StoreTable, [[StoreCell]])]) async throws
    /// What the store holds, for the refusal above: rows in `runs`, `versions` and `audit`.
    func isEmpty() async throws -> Bool
    /// How many rows a table holds (`sdata store status`).
    func countRows(_ table: StoreTable) async throws -> Int
}
