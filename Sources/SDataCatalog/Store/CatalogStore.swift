public import Foundation

/// The catalog's state: runs, versions and their distributions, bookmarks and the audit log.
///
/// Implementations must make ``recordVersion(_:)`` atomic (the version, its distributions and its audit entry are
/// committed together or not at all), keep the audit log append-only and hash-chained, and be safe to call from
/// several tasks. The embedded default is ``SQLiteCatalogStore``.
public protocol CatalogStore: Sendable {
    func beginRun(_ run: RunRecord) async throws
    func finishRun(_ run: RunRecord) async throws
    func runs(pipeline: String?, limit: Int) async throws -> [RunRecord]
    /// Runs still marked running (after a crash they are stale).
    func runningRuns() async throws -> [RunRecord]

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
