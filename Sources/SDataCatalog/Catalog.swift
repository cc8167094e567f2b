public import Foundation

/// A catalog root opened for use: its layout, configuration, store and publisher.
public struct Catalog: Sendable {
    public let layout: CatalogLayout
    public let config: CatalogConfig
    public let store: any CatalogStore

    /// Opens the catalog at `root`, creating its folders and state store when they do not exist.
    public static func open(root: String) throws -> Catalog {
        let layout = CatalogLayout(root: root)
        for directory in [layout.root, layout.rawDirectory, layout.draftsDirectory, layout.publicDirectory + "/datasets"] {
            try FileSystem.makeDirectories(directory)
        }
        let config = try CatalogConfig.load(path: layout.configFile)
        let store = try SQLiteCatalogStore(path: layout.stateFile)
        return Catalog(layout: layout, config: config, store: store)
    }

    public init(layout: CatalogLayout, config: CatalogConfig, store: any CatalogStore) {
        self.layout = layout
        self.config = config
        self.store = store
    }

    public var publisher: Publisher { Publisher(layout: layout, store: store, config: config) }

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
        let live = Set(try await store.leases().filter { $0.isLive(at: now) }.map(\.name))
        var liveRuns: Set<String> = []
        for var run in try await store.runningRuns() {
            if live.contains("pipeline:" + run.pipeline) {
                liveRuns.insert(run.id)
                continue
            }
            run.status = .failed
            run.finishedAt = now
            run.error = "interrupted: the process ended before the run finished (stale); nothing from it was published"
            try await store.finishRun(run)
            if try await store.rawKey(runId: run.id) != nil {
                try await store.destroyRawKey(runId: run.id, reason: "interrupted run")
            }
            FileSystem.removeTree(layout.rawRunDirectory(run.id))
            repaired.append("run \(run.id) of \(run.pipeline) marked failed (interrupted)")
        }
        for entry in FileSystem.contents(ofDirectory: layout.draftsDirectory)
        where !entry.hasSuffix(".lock") && !liveRuns.contains(entry) {
            // A draft of a run that is neither live nor still recorded as running is debris.
            if try await store.runningRuns().contains(where: { $0.id == entry }) { continue }
            FileSystem.removeTree(layout.draftsDirectory + "/" + entry)
            repaired.append("draft \(entry) deleted")
        }
        for dataset in FileSystem.contents(ofDirectory: layout.publicDirectory + "/datasets") {
            let directory = layout.datasetDirectory(dataset)
            let publication = try FileSystem.lock(layout.draftsDirectory + "/\(dataset).lock")
            defer { FileSystem.unlock(publication) }
            let versions = try await store.versions(dataset: dataset)
            let committed = Set(versions.filter { $0.withdrawnAt == nil }.map(\.number))
            let known = Set(versions.map(\.number))
            for entry in FileSystem.contents(ofDirectory: directory) {
                guard let number = Int(entry), !committed.contains(number) else { continue }
                FileSystem.removeTree(directory + "/" + entry)
                repaired.append(known.contains(number)
                    ? "files of withdrawn version \(dataset)/\(entry) removed"
                    : "uncommitted version folder \(dataset)/\(entry) removed")
            }
            if let newest = committed.max() {
                if FileSystem.readLink(directory + "/latest") != "\(newest)" {
                    try FileSystem.pointSymlink(directory + "/latest", to: "\(newest)")
                    repaired.append("\(dataset)/latest pointed at version \(newest)")
                }
            } else if FileSystem.exists(directory + "/latest") {
                FileSystem.removeTree(directory + "/latest")
            }
        }
        return repaired
    }

    /// Regenerates the static pages and `public/catalog.jsonld` (DCAT-AP 3) from the store.
    /// Renders are serialized across tasks and processes (a lock file), so that concurrent publications leave the
    /// pages of the last one, whole.
    public func renderSite() async throws {
        let lock = try FileSystem.lock(layout.draftsDirectory + "/site.lock")
        defer { FileSystem.unlock(lock) }
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
