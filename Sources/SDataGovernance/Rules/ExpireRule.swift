public import SDataCore

/// `expire: { field: last_contact, after: 14d }` withdraws records whose date is older than `after` (days `d`, hours
/// `h`, weeks `w`): Korea's 2020 guidance took a confirmed case's places off-line 14 days after the last contact.
/// Records are compared with the run's start (`as_of: run`, the default) or, to replay a historical extract, with the
/// latest date in the data (`as_of: data`). Every run re-applies it, so a place disappears from the next version once
/// it is due.
public struct ExpireRule: GovernanceRule {
    public static let name = "expire"
    public static let summary = "Withdraws records whose date is older than a period (for example 14 days)."
    public enum Reference: String, Sendable { case run, data }

    public let field: String
    public let seconds: Int
    public let reference: Reference

    public init(field: String, seconds: Int, reference: Reference = .run) {
        self.field = field
        self.seconds = seconds
        self.reference = reference
    }

    public static func decode(_ node: ConfigNode, diagnostics: inout Diagnostics) -> ExpireRule? {
        guard let options = RuleOptions(rule: name, node: node, allowed: ["field", "after", "as_of"],
                                        diagnostics: &diagnostics) else { return nil }
        let field = options.require("field", diagnostics: &diagnostics)?.scalar
        guard let afterNode = options.require("after", diagnostics: &diagnostics) else { return nil }
        guard let seconds = afterNode.scalar.flatMap(DurationText.seconds), seconds > 0 else {
            diagnostics.error("'after' must be a period such as 14d, 36h or 2w", at: afterNode.location)
            return nil
        }
        var reference = Reference.run
        if let node = options["as_of"] {
            guard let text = node.scalar, let value = Reference(rawValue: text) else {
                diagnostics.error("'as_of' must be 'run' or 'data'", at: node.location)
                return nil
            }
            reference = value
        }
        guard let field else { return nil }
        return ExpireRule(field: field, seconds: seconds, reference: reference)
    }

    public var referencedFields: [String] { [field] }

    public func bind(to input: Schema) throws(GovernanceError) -> RuleStep {
        try bind(to: input, context: BindingContext())
    }

    public func bind(to input: Schema, context: BindingContext) throws(GovernanceError) -> RuleStep {
        let position = try input.require(field, for: Self.name)
        return .dataset(ExpireStep(position: position, seconds: seconds,
                                   now: reference == .run ? context.now.map(Period.epochSeconds) : nil,
                                   field: field))
    }
}

final class ExpireStep: DatasetStep {
    var readPositions: Set<Int> { [position] }

    var stats = RuleStats()
    private let position: Int
    private let seconds: Int
    private let field: String
    private var reference: Int?
    private var latest: Int?
    private var row = 0

    init(position: Int, seconds: Int, now: Int?, field: String) {
        self.position = position
        self.seconds = seconds
        self.field = field
        reference = now
    }

    func observe(_ record: Record) {
        guard reference == nil, let instant = Period.instant(of: record[position]) else { return }
        latest = max(latest ?? instant, instant)
    }

    func finishObserving() {
        if reference == nil { reference = latest }
    }

    func apply(_ record: inout Record) throws(GovernanceError) -> Bool {
        row += 1
        guard !record[position].isNull else { return true }
        guard let instant = Period.instant(of: record[position]) else {
            throw GovernanceError("rule 'expire' cannot read field '\(field)' of record \(row) as a date or datetime")
        }
        guard let reference, instant + seconds < reference else { return true }
        stats.rowsDropped += 1
        return false
    }

    var details: [String: Int] { ["after_seconds": seconds] }
}

/// Instants in whole seconds since 1970, for time-based rules.
enum Period {
    static func instant(of value: Value) -> Int? {
        switch value {
        case .datetime(let dateTime): return epochSeconds(dateTime)
        case .date(let date): return days(date) * 86_400
        case .string(let text):
            if let dateTime = DatePattern.parseISODateTime(text) { return epochSeconds(dateTime) }
            return DatePattern.parseISODate(text).map { days($0) * 86_400 }
        default: return nil
        }
    }

    static func epochSeconds(_ value: DateTime) -> Int {
        days(value.date) * 86_400 + value.hour * 3600 + value.minute * 60 + value.second - (value.offsetSeconds ?? 0)
    }

    /// Days since 1970-01-01 (proleptic Gregorian), from Howard Hinnant's `days_from_civil`.
    static func days(_ date: LocalDate) -> Int {
        let year = date.month <= 2 ? date.year - 1 : date.year
        let era = (year >= 0 ? year : year - 399) / 400
        let yearOfEra = year - era * 400
        let dayOfYear = (153 * (date.month + (date.month > 2 ? -3 : 9)) + 2) / 5 + date.day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
