public import Foundation

/// Where a version came from; published in its metadata.
public struct Lineage: Sendable, Codable, Equatable {
    public var runId: String
    public var pipeline: String
    /// SHA-256 of the spec text as written (it holds no secrets: they are `${secret:…}` references).
    public var specHash: String
    public var plugin: String
    public var fetchedAt: Date
    public var rowsExtracted: Int

    public init(runId: String, pipeline: String, specHash: String, plugin: String, fetchedAt: Date, rowsExtracted: Int) {
        self.runId = runId
        self.pipeline = pipeline
        self.specHash = specHash
        self.plugin = plugin
        self.fetchedAt = fetchedAt
        self.rowsExtracted = rowsExtracted
    }

    enum CodingKeys: String, CodingKey {
        case pipeline, plugin
        case runId = "run_id"
        case specHash = "spec_hash"
        case fetchedAt = "fetched_at"
        case rowsExtracted = "rows_extracted"
    }
}

/// What the runner knows about a version it wants to publish.
public struct PublicationRequest: Sendable {
    public var dataset: String
    public var title: String
    public var description: String
    public var license: String?
    public var keywords: [String]
    public var theme: String?
    public var primaryKey: [String]
    public var rowCount: Int
    public var lineage: Lineage
    public var governanceReport: Data
    /// Charged to the privacy-budget ledger in the transaction that commits the version.
    public var privacyCharge: PrivacyCharge?

    public init(dataset: String, title: String, description: String, license: String?, keywords: [String],
                theme: String?, primaryKey: [String], rowCount: Int,
                lineage: Lineage, governanceReport: Data) {
        self.dataset = dataset
        self.title = title
        self.description = description
        self.license = license
        self.keywords = keywords
        self.theme = theme
        self.primaryKey = primaryKey
        self.rowCount = rowCount
        self.lineage = lineage
        self.governanceReport = governanceReport
    }
}

/// What publishing did.
public enum PublicationOutcome: Sendable {
    case published(VersionRecord)
    /// The content equals the latest version's; nothing new was published.
    case unchanged(VersionRecord)
}
