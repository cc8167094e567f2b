public import Foundation
public import SDataGovernance

/// What retention would do, and why: computed by ``Retention/plan(policies:now:)``, carried out by
/// ``Retention/apply(_:)``.
public struct RetentionAction: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        /// Destroy a run's raw-extract key, then its files (crypto-shredding).
        case destroyRaw = "destroy_raw"
        /// Delete the files left by an extract whose key is already gone.
        case deleteOrphanRaw = "delete_orphan_raw"
        /// Withdraw a published version: delete its files, keep a tombstone.
        case withdrawVersion = "withdraw_version"
        /// Delete a run's log file.
        case deleteRunLog = "delete_run_log"
    }

    public var kind: Kind
    public var subject: String
    public var dataset: String?
    public var version: Int?
    public var reason: String
    /// The legal hold that blocks the action, if any.
    public var blockedByHold: Int?

    enum CodingKeys: String, CodingKey {
        case kind, subject, dataset, version, reason
        case blockedByHold = "blocked_by_hold"
    }
}

/// One pipeline's retention policy with the dataset it publishes.
public struct PipelineRetention: Sendable {
    public var pipeline: String
    public var dataset: String
    public var policy: RetentionPolicy
    public var sensitive: Bool

    public init(pipeline: String, dataset: String, policy: RetentionPolicy, sensitive: Bool) {
        self.pipeline = pipeline
        self.dataset = dataset
        self.policy = policy
        self.sensitive = sensitive
    }
}

/// Retention: raw extracts destroyed on time by deleting their key and data, published versions withdrawn by
/// `keep_last` or age (never the newest), legal holds respected, every deletion audited.
public struct Retention: Sendable {
    public let catalog: Catalog

    public init(catalog: Catalog) { self.catalog = catalog }

    public func plan(policies: [PipelineRetention], now: Date = Date()) async throws -> [RetentionAction] {
        let store = catalog.store
        let holds = try await store.activeHolds()
        func hold(dataset: String?, run: String?) -> Int? {
            holds.first { ($0.dataset != nil && $0.dataset == dataset) || ($0.runId != nil && $0.runId == run) }?.id
        }
        let byPipeline = Dictionary(policies.map { ($0.pipeline, $0) }, uniquingKeysWith: { first, _ in first })
        var actions: [RetentionAction] = []
        for extract in try await store.rawExtracts() {
            let directory = catalog.layout.rawRunDirectory(extract.runId)
            let present = FileManager.default.fileExists(atPath: directory)
            let dataset = byPipeline[extract.pipeline]?.dataset
            if !extract.hasKey {
                if present {
                    actions.append(RetentionAction(kind: .deleteOrphanRaw, subject: extract.runId, dataset: dataset,
                                                   reason: "its key was already destroyed; the files are unreadable",
                                                   blockedByHold: nil))
                }
                continue
            }
            guard let entry = byPipeline[extract.pipeline] else { continue }
            let limit = entry.policy.rawSeconds ?? (entry.sensitive ? 0 : nil)
            guard let limit, extract.createdAt.addingTimeInterval(TimeInterval(limit)) <= now else { continue }
            actions.append(RetentionAction(kind: .destroyRaw, subject: extract.runId, dataset: dataset,
                                           reason: "raw retention of \(entry.pipeline) is \(Retention.describe(limit))",
                                           blockedByHold: hold(dataset: dataset, run: extract.runId)))
        }
        for entry in policies {
            guard let limit = entry.policy.logSeconds else { continue }
            for run in try await store.runs(pipeline: entry.pipeline, limit: 100_000)
            where run.startedAt.addingTimeInterval(TimeInterval(limit)) <= now
                && FileManager.default.fileExists(atPath: catalog.layout.logFile(run.id)) {
                actions.append(RetentionAction(kind: .deleteRunLog, subject: run.id, dataset: entry.dataset,
                                               reason: "log retention of \(entry.pipeline) is \(Retention.describe(limit))",
                                               blockedByHold: hold(dataset: entry.dataset, run: run.id)))
            }
        }
        for entry in policies {
            let live = try await store.versions(dataset: entry.dataset).filter { $0.withdrawnAt == nil }
                .sorted { $0.number > $1.number }
            for (rank, version) in live.enumerated() where rank > 0 {
                var reason: String?
                if let keep = entry.policy.keepLast, rank >= keep {
                    reason = "keep_last is \(keep)"
                } else if let age = entry.policy.versionMaxSeconds,
                          version.createdAt.addingTimeInterval(TimeInterval(age)) <= now {
                    reason = "older than max_age \(Retention.describe(age))"
                }
                guard let reason else { continue }
                actions.append(RetentionAction(kind: .withdrawVersion, subject: "\(entry.dataset) v\(version.number)",
                                               dataset: entry.dataset, version: version.number, reason: reason,
                                               blockedByHold: hold(dataset: entry.dataset, run: version.runId)))
            }
        }
        return actions
    }

    /// Carries out the unblocked actions; returns those done.
    public func apply(_ actions: [RetentionAction]) async throws -> [RetentionAction] {
        let store = catalog.store
        var done: [RetentionAction] = []
        for action in actions where action.blockedByHold == nil {
            switch action.kind {
            case .destroyRaw, .deleteOrphanRaw:
                // Key first: once it is gone nothing can read the files, even if deleting them is interrupted.
                if action.kind == .destroyRaw {
                    try await store.destroyRawKey(runId: action.subject, reason: action.reason)
                }
                FileSystem.removeTree(catalog.layout.rawRunDirectory(action.subject))
                try await store.appendAudit(kind: "raw.data_deleted", subject: action.subject, detail: action.reason)
            case .deleteRunLog:
                FileSystem.removeTree(catalog.layout.logFile(action.subject))
                try await store.appendAudit(kind: "run_log.deleted", subject: action.subject, detail: action.reason)
            case .withdrawVersion:
                guard let dataset = action.dataset, let number = action.version else { continue }
                try await store.withdrawVersion(dataset: dataset, number: number, reason: action.reason)
                FileSystem.removeTree(catalog.layout.versionDirectory(dataset, number))
                try await store.appendAudit(kind: "version.files_deleted", subject: dataset, detail: "version \(number)")
            }
            done.append(action)
        }
        if done.contains(where: { $0.kind == .withdrawVersion }) { try await catalog.renderSite() }
        return done
    }

    static func describe(_ seconds: Int) -> String {
        if seconds == 0 { return "0 (destroy when the run ends)" }
        if seconds % 86_400 == 0 { return "\(seconds / 86_400)d" }
        return "\(seconds / 3600)h"
    }
}
