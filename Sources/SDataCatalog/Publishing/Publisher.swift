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
/// serialized across processes with an exclusive lock file.
public struct Publisher: Sendable {
    public let layout: CatalogLayout
    public let store: any CatalogStore
    public let config: CatalogConfig

    public init(layout: CatalogLayout, store: any CatalogStore, config: CatalogConfig) {
        self.layout = layout
        self.store = store
        self.config = config
    }

    /// Starts a draft for a version of `dataset` written by run `runId`.
    public func makeDraft(dataset: String, runId: String, schema: Schema) throws(CatalogError) -> VersionDraft {
        let directory = layout.draftsDirectory + "/" + runId
        try FileSystem.makeDirectories(directory)
        return VersionDraft(dataset: dataset, runId: runId, directory: directory, schema: schema)
    }

    /// Deletes a draft (a failed or dry run).
    public func discard(_ draft: VersionDraft) {
        FileSystem.removeTree(draft.directory)
    }

    /// Makes the draft the dataset's newest version, unless its content equals the latest version's.
    public func publish(_ draft: VersionDraft, request: PublicationRequest,
                        dialect: CSVWriter.Dialect?) async throws -> PublicationOutcome {
        let lock = try FileSystem.lock(layout.draftsDirectory + "/\(request.dataset).lock")
        defer { FileSystem.unlock(lock) }

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
        try FileSystem.sync(directory: draft.directory)

        let datasetDirectory = layout.datasetDirectory(request.dataset)
        try FileSystem.makeDirectories(datasetDirectory)
        let target = layout.versionDirectory(request.dataset, number)
        // A folder left by a crash between rename and commit holds no committed version: replace it.
        FileSystem.removeTree(target)
        try FileSystem.rename(draft.directory, to: target)
        try FileSystem.sync(directory: datasetDirectory)

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
            FileSystem.removeTree(target)
            throw error
        }
        try FileSystem.pointSymlink(datasetDirectory + "/latest", to: "\(number)")
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
