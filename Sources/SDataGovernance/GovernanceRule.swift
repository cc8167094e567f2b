public import SDataCore

/// What a rule may know about the run it is bound for.
public struct BindingContext: Sendable {
    /// The run's id: `per_release` pseudonym keys are derived from it.
    public var runId: String
    public var pipeline: String
    /// When the run started: the "now" of time-based rules (`expire`).
    public var now: DateTime?

    public init(runId: String = "validation", pipeline: String = "", now: DateTime? = nil) {
        self.runId = runId
        self.pipeline = pipeline
        self.now = now
    }
}

/// A governance rule as declared in a spec: configuration only, checked when the spec loads.
///
/// Implementations must decode strictly (every unknown key is a located diagnostic), never put a record value or a
/// secret into a message, and produce a ``RuleStep`` bound to the schema the rule will see.
public protocol GovernanceRule: Sendable {
    /// The key that introduces the rule in a spec (`drop`, `pseudonymize`, …).
    static var name: String { get }
    /// One line for docs and `--help`.
    static var summary: String { get }
    /// Reads the rule's configuration; reports problems and returns `nil` when it is unusable.
    static func decode(_ node: ConfigNode, diagnostics: inout Diagnostics) -> Self?

    /// The fields this rule reads, for checks against the schema before any data flows.
    var referencedFields: [String] { get }

    /// Binds the rule to the schema it will see.
    func bind(to input: Schema) throws(GovernanceError) -> RuleStep

    /// Binds the rule for a particular run. Rules whose behaviour depends on the run (per-release keys) override it.
    func bind(to input: Schema, context: BindingContext) throws(GovernanceError) -> RuleStep
}

extension GovernanceRule {
    public func bind(to input: Schema, context: BindingContext) throws(GovernanceError) -> RuleStep {
        try bind(to: input)
    }
}

/// A rule bound to its input schema: the two tiers of governance.
public enum RuleStep {
    /// Rewrites or drops one record at a time, the same way every time it sees the same record.
    case record(any RecordStep)
    /// Needs the whole dataset: first sees every record (``DatasetStep/observe(_:)``), then filters or rewrites
    /// (``DatasetStep/apply(_:)``). It keeps aggregates (counts), never rows.
    case dataset(any DatasetStep)
    /// Turns the records reaching it into aggregate rows (counts, sums), emitted at the end; must be the last rule.
    case aggregate(any AggregateStep)
}

/// An aggregation bound to a schema: accumulates every record, then emits one row per group.
public protocol AggregateStep: AnyObject {
    var outputSchema: Schema { get }
    var stats: RuleStats { get set }
    func accumulate(_ record: Record)
    /// The aggregate rows; called once, after the last record.
    func finish() throws(GovernanceError) -> [Record]
    var details: [String: Int] { get }
    /// The privacy loss ε one release of this aggregate costs (`nil` without noise).
    var epsilon: Double? { get }
    /// The total ε the dataset may spend across releases.
    var budget: Double? { get }
}

/// A per-record rule bound to a schema. It may memoize (pseudonyms) but its output depends only on its input.
public protocol RecordStep: AnyObject {
    var outputSchema: Schema { get }
    var stats: RuleStats { get set }
    /// Rewrites `record` in place; returns false to drop it.
    func apply(_ record: inout Record) throws(GovernanceError) -> Bool
    /// The positions the step rewrites, each from its own value, keeping the schema's layout; `nil` when the step
    /// moves fields (projections). Lets observation passes skip steps whose output a dataset rule does not read.
    var rewrittenPositions: Set<Int>? { get }
    /// Whether the step may drop records (then it always runs).
    var mayDropRecords: Bool { get }
}

extension RecordStep {
    public var rewrittenPositions: Set<Int>? { nil }
    public var mayDropRecords: Bool { false }
}

/// A dataset rule bound to a schema; the schema passes through unchanged.
public protocol DatasetStep: AnyObject {
    var stats: RuleStats { get set }
    /// The positions the step reads (so that observation passes run only the rules that feed them).
    var readPositions: Set<Int> { get }
    func observe(_ record: Record)
    /// Called once after the observation pass.
    func finishObserving()
    /// Rewrites `record` in place (suppressing a rare value, say); returns false to drop it.
    func apply(_ record: inout Record) throws(GovernanceError) -> Bool
    /// Rule-specific results for the report (k achieved, classes), counts only.
    var details: [String: Int] { get }
}

/// What a rule did, in counts only.
public struct RuleStats: Sendable, Codable, Equatable {
    /// Values the rule changed.
    public var valuesChanged = 0
    /// Records the rule removed.
    public var rowsDropped = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case valuesChanged = "values_changed"
        case rowsDropped = "rows_dropped"
    }
}

/// A governance failure; the message names rules, fields and row numbers, never values.
public struct GovernanceError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
