import Foundation
public import SDataCatalog

/// What one run did, for the CLI and for tests.
public struct RunSummary: Sendable, Codable {
    public var run: RunRecord
    /// The folder of the published (or unchanged latest) version.
    public var versionPath: String?
    public var distributions: [DistributionRecord]
    /// Human notes (PII gate warnings, recovered state), never values.
    public var notes: [String]

    public init(run: RunRecord, versionPath: String? = nil, distributions: [DistributionRecord] = [], notes: [String] = []) {
        self.run = run
        self.versionPath = versionPath
        self.distributions = distributions
        self.notes = notes
    }

    enum CodingKeys: String, CodingKey {
        case run, distributions, notes
        case versionPath = "version_path"
    }
}

/// Phases a run goes through, for progress displays.
public enum RunPhase: String, Sendable {
    case extracting, governing, writing, publishing, done
}

/// Progress callbacks from a run: phase changes and row counts.
public struct RunProgress: Sendable {
    public let update: @Sendable (_ pipeline: String, _ phase: RunPhase, _ rows: Int) -> Void
    /// One more request (a page) made by a network source.
    public let request: @Sendable (_ pipeline: String) -> Void

    public init(_ update: @escaping @Sendable (String, RunPhase, Int) -> Void,
                request: @escaping @Sendable (String) -> Void = { _ in }) {
        self.update = update
        self.request = request
    }

    public static let silent = RunProgress { _, _, _ in }
}
