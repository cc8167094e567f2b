/// Where things live under a catalog root (DESIGN §4).
public struct CatalogLayout: Sendable {
    /// Configuration (`catalog.yaml`) and the embedded store.
    public let root: String
    /// Raw extracts, logs, drafts and `public/`: the root, or a path several machines share (`artifacts.path`).
    public let artifactsRoot: String

    public init(root: String, artifactsRoot: String? = nil) {
        func trimmed(_ path: String) -> String {
            var path = path
            while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
            return path
        }
        self.root = trimmed(root)
        self.artifactsRoot = trimmed(artifactsRoot ?? root)
    }

    /// The authored configuration: publisher, base URL, default license.
    public var configFile: String { root + "/catalog.yaml" }
    public var stateFile: String { root + "/state.sqlite" }
    /// The staged raw extracts, one folder per run.
    public var rawDirectory: String { artifactsRoot + "/raw" }
    /// One log file per run: `logs/<run>.log`.
    public var logsDirectory: String { artifactsRoot + "/logs" }
    public func logFile(_ runId: String) -> String { logsDirectory + "/" + runId + ".log" }
    /// Drafts of versions being written: on the same file system as `public/` so that publishing is a rename, but
    /// outside it so that no web server ever shows a half-written version.
    public var draftsDirectory: String { artifactsRoot + "/.drafts" }
    /// The static site.
    public var publicDirectory: String { artifactsRoot + "/public" }

    public func datasetDirectory(_ dataset: String) -> String { publicDirectory + "/datasets/" + dataset }
    public func versionDirectory(_ dataset: String, _ number: Int) -> String { datasetDirectory(dataset) + "/\(number)" }
    public func rawRunDirectory(_ runId: String) -> String { rawDirectory + "/" + runId }
}
