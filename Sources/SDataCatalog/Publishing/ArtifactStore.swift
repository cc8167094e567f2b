import Foundation

/// Where a catalog's files live — drafts, published versions, `latest` pointers, pages — and how writers on one or
/// several machines keep out of each other's way.
///
/// Publication is: write a draft aside, ``placeVersion(draft:dataset:number:)`` (one rename: the version appears
/// whole or not at all), commit its record in the catalog store, then ``pointLatest(dataset:to:)`` (one rename of a
/// symbolic link). Everything between taking and releasing ``withDatasetLock(_:_:)`` is serialized per dataset
/// across every process sharing the artifacts; different datasets publish in parallel.
public protocol ArtifactStore: Sendable {
    var layout: CatalogLayout { get }
    /// `local` (one machine) or `shared` (a file system several machines mount).
    var kind: String { get }
    /// Runs `body` holding the dataset's publication lock.
    func withDatasetLock<T: Sendable>(_ dataset: String, _ body: () async throws -> T) async throws -> T
    /// Runs `body` holding the lock that serializes page renders.
    func withSiteLock<T: Sendable>(_ body: () async throws -> T) async throws -> T
    /// A new private folder for a run's draft, on the same file system as the published versions.
    func makeDraft(runId: String) throws -> String
    func discardDraft(_ directory: String)
    /// Syncs the draft and renames it into place as version `number` of `dataset`, replacing debris of a crash.
    func placeVersion(draft: String, dataset: String, number: Int) throws
    func removeVersion(dataset: String, number: Int)
    /// Points `latest` at `number` in one atomic step, or removes it (`nil`).
    func pointLatest(dataset: String, to number: Int?) throws
    /// Where `latest` points now.
    func latest(dataset: String) -> Int?
    /// The version folders present, by number.
    func versionFolders(dataset: String) -> [Int]
    /// The datasets that have a folder.
    func datasetFolders() -> [String]
    /// Run drafts present (folder names: run ids).
    func drafts() -> [String]
}

/// Versions as folders of files, on a local disk or on a file system shared by several machines.
///
/// `local`: publication and page renders are serialized with `flock(2)` locks. `shared` adds a lease in the catalog
/// store (PostgreSQL, which every machine reaches) around each, because advisory file locks are not dependable across
/// machines on every network file system; renames stay atomic on a shared POSIX file system (NFSv4, CephFS, …), so a
/// reader on any machine sees a version whole or not at all.
public struct FileArtifactStore: ArtifactStore {
    public enum Coordination: Sendable {
        case local
        case shared(any CatalogStore)
    }

    public let layout: CatalogLayout
    public let coordination: Coordination

    public init(layout: CatalogLayout, coordination: Coordination = .local) {
        self.layout = layout
        self.coordination = coordination
    }

    public var kind: String {
        if case .shared = coordination { return "shared" }
        return "local"
    }

    public func withDatasetLock<T: Sendable>(_ dataset: String, _ body: () async throws -> T) async throws -> T {
        try await withLock(file: layout.draftsDirectory + "/\(dataset).lock", lease: "publish:" + dataset, body)
    }

    public func withSiteLock<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await withLock(file: layout.draftsDirectory + "/site.lock", lease: "site", body)
    }

    private func withLock<T: Sendable>(file: String, lease: String, _ body: () async throws -> T) async throws -> T {
        let descriptor = try await FileSystem.lock(file)
        defer { FileSystem.unlock(descriptor) }
        guard case .shared(let store) = coordination else { return try await body() }
        let holder = "\(ProcessInfo.processInfo.hostName):\(getpid()):\(UUID().uuidString)"
        // Publication takes seconds; a holder that died mid-way loses the lease after two minutes.
        let ttl: TimeInterval = 120
        var waited = 0
        while try await !store.acquireLease(lease, holder: holder, ttl: ttl, now: Date()) {
            waited += 1
            if waited > Int(ttl * 10) + 100 {
                throw CatalogError("timed out waiting for the '\(lease)' lock held by another machine")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        do {
            let result = try await body()
            try? await store.releaseLease(lease, holder: holder)
            return result
        } catch {
            try? await store.releaseLease(lease, holder: holder)
            throw error
        }
    }

    public func makeDraft(runId: String) throws -> String {
        let directory = layout.draftsDirectory + "/" + runId
        try FileSystem.makeDirectories(directory)
        return directory
    }

    public func discardDraft(_ directory: String) {
        FileSystem.removeTree(directory)
    }

    public func placeVersion(draft: String, dataset: String, number: Int) throws {
        try FileSystem.sync(directory: draft)
        let datasetDirectory = layout.datasetDirectory(dataset)
        try FileSystem.makeDirectories(datasetDirectory)
        let target = layout.versionDirectory(dataset, number)
        // A folder left by a crash between rename and commit holds no committed version: replace it.
        FileSystem.removeTree(target)
        try FileSystem.rename(draft, to: target)
        try FileSystem.sync(directory: datasetDirectory)
    }

    public func removeVersion(dataset: String, number: Int) {
        FileSystem.removeTree(layout.versionDirectory(dataset, number))
    }

    public func pointLatest(dataset: String, to number: Int?) throws {
        let link = layout.datasetDirectory(dataset) + "/latest"
        guard let number else {
            if FileSystem.exists(link) { FileSystem.removeTree(link) }
            return
        }
        try FileSystem.pointSymlink(link, to: "\(number)")
    }

    public func latest(dataset: String) -> Int? {
        FileSystem.readLink(layout.datasetDirectory(dataset) + "/latest").flatMap { Int($0) }
    }

    public func versionFolders(dataset: String) -> [Int] {
        FileSystem.contents(ofDirectory: layout.datasetDirectory(dataset)).compactMap { Int($0) }.sorted()
    }

    public func datasetFolders() -> [String] {
        FileSystem.contents(ofDirectory: layout.publicDirectory + "/datasets").sorted()
    }

    public func drafts() -> [String] {
        FileSystem.contents(ofDirectory: layout.draftsDirectory).filter { !$0.hasSuffix(".lock") }
    }
}
