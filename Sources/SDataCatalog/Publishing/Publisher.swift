import Foundation
import Crypto
public import SDataCore
#if canImport(Glibc)
import Glibc
#endif

/// Publishes versions atomically: write aside, fsync, rename into `public/`, commit the metadata, move `latest`.
///
/// A crash at any point leaves the previous catalog: drafts live outside `public/`; a version folder renamed into
/// place but not yet committed is removed by ``Catalog/recover()`` on the next start; `latest` is a symbolic link
/// replaced with one `rename(2)`, so it never points at a half-written version. Publication of one dataset is
/// serialized across processes (and machines, with shared artifacts) by the artifact store's dataset lock.
public struct Publisher: Sendable {
    public let artifacts: any ArtifactStore
    public let store: any CatalogStore
    public let config: CatalogConfig

    public init(artifacts: any ArtifactStore, store: any CatalogStore, config: CatalogConfig) {
        self.artifacts = artifacts
        self.store = store
        self.config = config
    }

    /// Starts a draft for a version of `dataset` written by run `runId`.
    public func makeDraft(dataset: String, runId: String, schema: Schema) throws -> VersionDraft {
        VersionDraft(dataset: dataset, runId: runId, directory: try artifacts.makeDraft(runId: runId), schema: schema)
    }

    /// Deletes a draft (a failed or dry run).
    public func discard(_ draft: VersionDraft) {
        artifacts.discardDraft(draft.directory)
    }

    /// Makes the draft the dataset's newest version, unless its content equals the latest version's.
    public func publish(_ draft: VersionDraft, request: PublicationRequest,
                        dialect: CSVWriter.Dialect?) async throws -> PublicationOutcome {
        try await artifacts.withDatasetLock(request.dataset) {
            try await publishLocked(draft, request: request, dialect: dialect)
        }
    }

    private func publishLocked(_ draft: VersionDraft, request: PublicationRequest,
                               dialect: CSVWriter.Dialect?) async throws -> PublicationOutcome {
        let contentHash = Publisher.contentHash(schema: draft.schema, distributions: draft.distributions)
        if let latest = try await store.latestVersion(dataset: request.dataset), latest.contentHash == contentHash {
            discard(draft)
            return .unchanged(latest)
        }
        let number = (try await store.latestVersion(dataset: request.dataset)?.number ?? 0) + 1
        let createdAt = Date()
        let relative = "datasets/\(request.dataset)/\(number)/"
        let distributions = draft.distributions.map { distribution in
            var published = distribution
            published.path = relative + distribution.path
            return published
        }
        let package = try DataPackage.descriptor(request: request, version: number, createdAt: createdAt,
                                                 schema: draft.schema, distributions: draft.distributions,
                                                 dialect: dialect, config: config)
        try FileSystem.writeNew(draft.directory + "/datapackage.json", package)
        try FileSystem.writeNew(draft.directory + "/governance.json", request.governanceReport)
        try artifacts.placeVersion(draft: draft.directory, dataset: request.dataset, number: number)

        let record = VersionRecord(
            dataset: request.dataset, number: number, runId: draft.runId, createdAt: createdAt,
            contentHash: contentHash, rowCount: request.rowCount, title: request.title,
            schemaJSON: String(decoding: try JSONSerialization.data(
                withJSONObject: DataPackage.tableSchema(draft.schema, primaryKey: request.primaryKey), options: [.sortedKeys]),
                               as: UTF8.self),
            lineageJSON: String(decoding: try JSONEncoder.catalog.encode(request.lineage), as: UTF8.self),
            governanceJSON: String(decoding: request.governanceReport, as: UTF8.self),
            distributions: distributions)
        do {
            try await store.recordVersion(record, charge: request.privacyCharge)
        } catch {
            artifacts.removeVersion(dataset: request.dataset, number: number)
            throw error
        }
        try artifacts.pointLatest(dataset: request.dataset, to: number)
        return .published(record)
    }

    /// SHA-256 over the schema and each distribution's checksum: the identity of a version's content.
    static func contentHash(schema: Schema, distributions: [DistributionRecord]) -> String {
        var hasher = SHA256()
        for field in schema.fields { hasher.update(data: Array("\(field.name):\(field.type.rawValue)\n".utf8)) }
        for distribution in distributions.sorted(by: { $0.format < $1.format }) {
            hasher.update(data: Array("\(distribution.format):\(distribution.sha256)\n".utf8))
        }
        return Hex.string(hasher.finalize())
    }
}
