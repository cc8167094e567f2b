/// Where things live under a catalog root (DESIGN §4).
public struct CatalogLayout: Sendable {
    public let root: String

    public init(root: String) {
        var root = root
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        self.root = root
    }

    /// The authored configuration: publisher, base URL, default license.
    public var configFile: String { root + "/catalog.yaml" }
    public var stateFile: String { root + "/state.sqlite" }
    /// The staged raw extracts, one folder per run.
    public var rawDirectory: String { root + "/raw" }
    /// One log file per run: `logs/<run>.log`.
    public var logsDirectory: String { root + "/logs" }
    public func logFile(_ runId: String) -> String { logsDirectory + "/" + runId + ".log" }
    /// Drafts of versions being written: on the same file system as `public/` so that publishing is a rename, but
    /// outside it so that no web server ever shows a half-written version.
    public var draftsDirectory: String { root + "/.drafts" }
    /// The static site.
    public var publicDirectory: String { root + "/public" }

    public func datasetDirectory(_ dataset: String) -> String { publicDirectory + "/datasets/" + dataset }
    public func versionDirectory(_ dataset: String, _ number: Int) -> String { datasetDirectory(dataset) + "/\(number)" }
    public func rawRunDirectory(_ runId: String) -> String { rawDirectory + "/" + runId }
}
