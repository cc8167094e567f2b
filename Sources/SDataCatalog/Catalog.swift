public import Foundation

/// A catalog root opened for use: its layout, configuration, store and publisher.
public struct Catalog: Sendable {
    public let layout: CatalogLayout
    public let config: CatalogConfig
    public let store: any CatalogStore
    public let artifacts: any ArtifactStore

    /// Opens the catalog at `root`, creating its folders and state store when they do not exist.
    ///
    /// The store is `catalog.yaml`'s `store:` (`SDATA_STORE` in the environment wins): a `postgres://` URL, or
    /// `sqlite:PATH`; by default the embedded `state.sqlite` in the root. Files live in the root, or under
    /// `artifacts.path`.
    public static func open(root: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Catalog {
        var layout = CatalogLayout(root: root)
        try FileSystem.makeDirectories(layout.root)
        let config = try CatalogConfig.load(path: layout.configFile)
        if let path = config.artifacts?.path { layout = CatalogLayout(root: root, artifactsRoot: path) }
        for directory in [layout.rawDirectory, layout.draftsDirectory, layout.publicDirectory + "/datasets"] {
            try FileSystem.makeDirectories(directory)
        }
        let store = try StoreLocation(environment["SDATA_STORE"] ?? config.store, layout: layout).open()
        let artifacts: FileArtifactStore
        switch config.artifacts?.kind ?? "local" {
        case "local": artifacts = FileArtifactStore(layout: layout, coordination: .local)
        case "shared": artifacts = FileArtifactStore(layout: layout, coordination: .shared(store))
        case let other:
            throw CatalogError("\(layout.configFile): artifacts.kind must be 'local' or 'shared', not '\(other)'")
        }
        return Catalog(layout: layout, config: config, store: store, artifacts: artifacts)
    }

    public init(layout: CatalogLayout, config: CatalogConfig, store: any CatalogStore, artifacts: (any ArtifactStore)? = nil) {
        self.layout = layout
        self.config = config
        self.store = store
        self.artifacts = artifacts ?? FileArtifactStore(layout: layout)
    }

    public var publisher: Publisher { Publisher(artifacts: artifacts, store: store, config: config) }

    /// Held by every process that runs pipelines on this catalog (shared), or by one maintenance command alone
    /// (exclusive); released on exit, even by `kill -9`.
    public final class RunLock: Sendable {
        private let descriptor: Int32
        init(descriptor: Int32) { self.descriptor = descriptor }
        public func release() { FileSystem.unlock(descriptor) }
    }

    /// Takes the catalog's run lock without waiting. Runners (`sdata run`, schedulers) share it — they keep out of
    /// each other's way with per-pipeline leases in the store — while `exclusive` (retention) needs it alone; throws
    /// when that is not possible now.
    public func acquireRunLock(exclusive: Bool = false) throws(CatalogError) -> RunLock {
        guard let descriptor = try FileSystem.tryLock(layout.draftsDirectory + "/run.lock", shared: !exclusive) else {
            throw CatalogError(exclusive
                ? "pipelines are running on the catalog at '\(layout.root)'; try again when they have finished"
                : "a maintenance command (retention) holds the catalog at '\(layout.root)'; wait for it to finish")
        }
        return RunLock(descriptor: descriptor)
    }

    /// Repairs what an interrupted process left: runs still marked running whose pipeline lease has expired (their
    /// process died: nothing of theirs was committed) become failed, their drafts and raw extracts are deleted,
    /// version folders without a committed version are removed and `latest` is pointed back at the newest committed
    /// version. Safe while other processes run pipelines: their runs hold live leases and are left alone, and each
    /// dataset is repaired under its publication lock.
    @discardableResult
    public func recover(now: Date = Date()) async throws -> [String] {
        var repaired: [String] = []
        let reason = "interrupted: the process ended before the run finished (stale); nothing from it was published"
        for run in try await store.failStaleRuns(now: now, reason: reason) {
            if try await store.rawKey(runId: run.id) != nil {
                try await store.destroyRawKey(runId: run.id, reason: "interrupted run")
            }
            FileSystem.removeTree(layout.rawRunDirectory(run.id))
            repaired.append("run \(run.id) of \(run.pipeline) marked failed (interrupted)")
        }
        // A run's draft is made after its run is recorded as running, so the runs read after the listing include
        // the run of every draft still in use; the others are debris. A dump being written (`dump-….zip`) grows
        // all the time: it is debris once nothing has written to it for a while.
        let drafts = artifacts.drafts()
        let running = Set(try await store.runningRuns().map(\.id))
        for entry in drafts where !running.contains(entry) {
            let path = layout.draftsDirectory + "/" + entry
            if entry.hasPrefix(CatalogDump.draftPrefix),
               FileSystem.modificationDate(path).map({ now.timeIntervalSince($0) < CatalogDump.abandonedAfter }) ?? false {
                continue
            }
            artifacts.discardDraft(path)
            repaired.append("draft \(entry) deleted")
        }
        for dataset in artifacts.datasetFolders() {
            let notes = try await artifacts.withDatasetLock(dataset) { () async throws -> [String] in
                var notes: [String] = []
                let versions = try await store.versions(dataset: dataset)
                let committed = Set(versions.filter { $0.withdrawnAt == nil }.map(\.number))
                let known = Set(versions.map(\.number))
                for number in artifacts.versionFolders(dataset: dataset) where !committed.contains(number) {
                    artifacts.removeVersion(dataset: dataset, number: number)
                    notes.append(known.contains(number)
                        ? "files of withdrawn version \(dataset)/\(number) removed"
                        : "uncommitted version folder \(dataset)/\(number) removed")
                }
                let newest = committed.max()
                if artifacts.latest(dataset: dataset) != newest {
                    try artifacts.pointLatest(dataset: dataset, to: newest)
                    if let newest { notes.append("\(dataset)/latest pointed at version \(newest)") }
                }
                return notes
            }
            repaired += notes
        }
        return repaired
    }

    /// Regenerates the static pages and `public/catalog.jsonld` (DCAT-AP 3) from the store.
    /// Renders are serialized across tasks and processes (a lock file), so that concurrent publications leave the
    /// pages of the last one, whole.
    public func renderSite() async throws {
        try await artifacts.withSiteLock { try await renderSiteLocked() }
    }

    private func renderSiteLocked() async throws {
        var summaries: [SiteRenderer.DatasetSummary] = []
        var metadata: [DCATCatalog.DatasetVersions] = []
        for dataset in try await store.datasets() {
            let versions = try await store.versions(dataset: dataset)
            guard !versions.isEmpty else { continue }
            var packages: [Int: [String: Any]] = [:]
            for version in versions where version.withdrawnAt == nil {
                let path = layout.versionDirectory(dataset, version.number) + "/datapackage.json"
                if let data = FileManager.default.contents(atPath: path),
                   let package = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
                    packages[version.number] = package
                }
            }
            metadata.append(.init(dataset: dataset, versions: versions, packages: packages))
            let latest = versions.last { $0.withdrawnAt == nil } ?? versions[versions.count - 1]
            let reportPath = layout.versionDirectory(dataset, latest.number) + "/governance.json"
            let report = FileManager.default.contents(atPath: reportPath)
                .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
            let page = SiteRenderer.datasetPage(dataset: dataset, versions: versions, packages: packages,
                                                governance: report, config: config)
            try FileSystem.replace(layout.datasetDirectory(dataset) + "/index.html", with: Data(page.utf8))
            summaries.append(.init(dataset: dataset, latest: latest, versionCount: versions.count,
                                   package: packages[latest.number] ?? [:]))
        }
        let index = SiteRenderer.indexPage(datasets: summaries, config: config,
                                           hasDumps: FileManager.default.fileExists(atPath: layout.publicDirectory + "/dumps/index.json"))
        try FileSystem.replace(layout.publicDirectory + "/index.html", with: Data(index.utf8))
        try FileSystem.replace(layout.publicDirectory + "/catalog.jsonld",
                               with: try DCATCatalog.render(config: config, datasets: metadata))
    }

    /// The folder of a version, or of `latest`.
    public func versionPath(dataset: String, version: Int?) -> String {
        version.map { layout.versionDirectory(dataset, $0) } ?? layout.datasetDirectory(dataset) + "/latest"
    }
}
