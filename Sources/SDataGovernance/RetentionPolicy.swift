/// How long a pipeline's data is kept (`governance.retention`).
public struct RetentionPolicy: Sendable, Equatable {
    /// Seconds a staged raw extract is kept before it (and its key) is destroyed; `nil` keeps it until a policy says
    /// otherwise, except in sensitive pipelines, which destroy it when the run ends.
    public var rawSeconds: Int?
    /// Published versions beyond the newest `keepLast` are withdrawn.
    public var keepLast: Int?
    /// Published versions older than this are withdrawn (never the newest).
    public var versionMaxSeconds: Int?
    /// Run log files older than this are deleted.
    public var logSeconds: Int?

    public init(rawSeconds: Int? = nil, keepLast: Int? = nil, versionMaxSeconds: Int? = nil, logSeconds: Int? = nil) {
        self.rawSeconds = rawSeconds
        self.keepLast = keepLast
        self.versionMaxSeconds = versionMaxSeconds
        self.logSeconds = logSeconds
    }

}
