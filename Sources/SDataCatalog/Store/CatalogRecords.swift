public import Foundation

/// How a run ended.
public enum RunStatus: String, Sendable, Codable, CaseIterable {
    case running
    /// Published a new version.
    case published
    /// Succeeded; the content was identical to the latest version, so nothing new was published.
    case unchanged
    /// Fetched and governed, published nothing on purpose (`--dry-run`).
    case dryRun = "dry_run"
    case failed
    /// Not run: another process holds the pipeline's lease and is running it. Reported, never stored.
    case skipped
}

/// One execution of a pipeline, as `sdata runs` shows it.
public struct RunRecord: Sendable, Codable, Equatable {
    public var id: String
    public var pipeline: String
    public var startedAt: Date
    public var finishedAt: Date?
    public var status: RunStatus
    public var rowsIn: Int
    public var rowsOut: Int
    public var rowsSuppressed: Int
    /// The version this run published (or found unchanged).
    public var version: Int?
    /// Why it failed: a sentence without values or secrets.
    public var error: String?
    public var specHash: String

    public init(id: String, pipeline: String, startedAt: Date, specHash: String) {
        self.id = id
        self.pipeline = pipeline
        self.startedAt = startedAt
        self.specHash = specHash
        status = .running
        rowsIn = 0
        rowsOut = 0
        rowsSuppressed = 0
    }

    enum CodingKeys: String, CodingKey {
        case id, pipeline, status, version, error
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case rowsIn = "rows_in"
        case rowsOut = "rows_out"
        case rowsSuppressed = "rows_suppressed"
        case specHash = "spec_hash"
    }
}

/// One file of a version.
public struct DistributionRecord: Sendable, Codable, Equatable {
    public var format: String
    /// Path relative to `public/`.
    public var path: String
    public var mediaType: String
    public var bytes: Int
    public var sha256: String

    public init(format: String, path: String, mediaType: String, bytes: Int, sha256: String) {
        self.format = format
        self.path = path
        self.mediaType = mediaType
        self.bytes = bytes
        self.sha256 = sha256
    }

    enum CodingKeys: String, CodingKey {
        case format, path, bytes, sha256
        case mediaType = "media_type"
    }
}

/// An immutable published version of a dataset.
public struct VersionRecord: Sendable, Codable, Equatable {
    public var dataset: String
    public var number: Int
    public var runId: String
    public var createdAt: Date
    /// SHA-256 over the schema and the distributions' checksums: equal content, equal hash.
    public var contentHash: String
    public var rowCount: Int
    public var title: String
    /// JSON: the Table Schema published in the Data Package.
    public var schemaJSON: String
    /// JSON: where the data came from (spec hash, plugin, fetch time, run id).
    public var lineageJSON: String
    /// JSON: the governance report.
    public var governanceJSON: String
    public var distributions: [DistributionRecord]
    /// Set when retention withdrew the version: its files are gone, this record is the tombstone.
    public var withdrawnAt: Date?
    public var withdrawnReason: String?

    public init(dataset: String, number: Int, runId: String, createdAt: Date, contentHash: String, rowCount: Int,
                title: String, schemaJSON: String, lineageJSON: String, governanceJSON: String,
                distributions: [DistributionRecord]) {
        self.dataset = dataset
        self.number = number
        self.runId = runId
        self.createdAt = createdAt
        self.contentHash = contentHash
        self.rowCount = rowCount
        self.title = title
        self.schemaJSON = schemaJSON
        self.lineageJSON = lineageJSON
        self.governanceJSON = governanceJSON
        self.distributions = distributions
    }

    enum CodingKeys: String, CodingKey {
        case dataset, number, title, distributions
        case runId = "run_id"
        case createdAt = "created_at"
        case contentHash = "content_hash"
        case rowCount = "row_count"
        case schemaJSON = "schema"
        case lineageJSON = "lineage"
        case governanceJSON = "governance"
        case withdrawnAt = "withdrawn_at"
        case withdrawnReason = "withdrawn_reason"
    }
}

/// An entry of the append-only audit log; each carries the hash of the one before.
public struct AuditEntry: Sendable, Codable, Equatable {
    public var sequence: Int
    public var at: Date
    /// The timestamp exactly as stored and hashed.
    public var atText: String
    public var kind: String
    public var subject: String
    public var detail: String
    public var previousHash: String
    public var hash: String

    public init(sequence: Int, at: Date, atText: String, kind: String, subject: String, detail: String,
                previousHash: String, hash: String) {
        self.sequence = sequence
        self.at = at
        self.atText = atText
        self.kind = kind
        self.subject = subject
        self.detail = detail
        self.previousHash = previousHash
        self.hash = hash
    }

    enum CodingKeys: String, CodingKey {
        case sequence, at, kind, subject, detail, hash
        case atText = "at_text"
        case previousHash = "previous_hash"
    }
}

/// A run's staged raw extract, as the store knows it.
public struct RawExtract: Sendable, Codable, Equatable {
    public var runId: String
    public var pipeline: String
    public var createdAt: Date
    public var destroyedAt: Date?
    /// Whether its key still exists (without it the extract cannot be read).
    public var hasKey: Bool

    enum CodingKeys: String, CodingKey {
        case pipeline
        case runId = "run_id"
        case createdAt = "created_at"
        case destroyedAt = "destroyed_at"
        case hasKey = "has_key"
    }
}

/// A legal hold: while active, retention deletes nothing of its dataset or run.
public struct LegalHold: Sendable, Codable, Equatable {
    public var id: Int
    public var dataset: String?
    public var runId: String?
    public var reason: String
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, dataset, reason
        case runId = "run_id"
        case createdAt = "created_at"
    }
}
