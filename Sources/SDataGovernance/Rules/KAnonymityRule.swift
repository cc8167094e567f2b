public import SDataCore

/// `k_anonymity: { quasi_identifiers: [age, sex, district, visited_at], k: 5 }` suppresses every record whose
/// combination of quasi-identifier values (its equivalence class) occurs fewer than `k` times in the whole dataset.
///
/// Classes are counted over all records reaching the rule, in a first streaming pass; only the counts are kept.
public struct KAnonymityRule: GovernanceRule {
    public static let name = "k_anonymity"
    public static let summary = "Suppresses records whose quasi-identifier combination occurs fewer than k times."
    public let quasiIdentifiers: [String]
    public let k: Int
    public let action: GateAction

    public init(quasiIdentifiers: [String], k: Int, action: GateAction = .suppress) {
        self.quasiIdentifiers = quasiIdentifiers
        self.k = k
        self.action = action
    }

    public static func decode(_ node: ConfigNode, diagnostics: inout Diagnostics) -> KAnonymityRule? {
        guard let options = RuleOptions(rule: name, node: node, allowed: ["quasi_identifiers", "k", "action"],
                                        diagnostics: &diagnostics) else { return nil }
        let k = options.require("k", diagnostics: &diagnostics) != nil
            ? options.integer("k", in: 2...1_000_000, diagnostics: &diagnostics) : nil
        guard let qiNode = options.require("quasi_identifiers", diagnostics: &diagnostics) else { return nil }
        guard let names = qiNode.stringList, !names.isEmpty else {
            diagnostics.error("'quasi_identifiers' must be a non-empty list of field names", at: qiNode.location)
            return nil
        }
        guard let k, let action = GateAction.decode(options["action"], rule: name, diagnostics: &diagnostics) else {
            return nil
        }
        return KAnonymityRule(quasiIdentifiers: names, k: k, action: action)
    }

    public var referencedFields: [String] { quasiIdentifiers }

    public func bind(to input: Schema) throws(GovernanceError) -> RuleStep {
        var positions: [Int] = []
        for field in quasiIdentifiers { positions.append(try input.require(field, for: Self.name)) }
        return .dataset(KAnonymityStep(positions: positions, k: k, failOnViolation: action == .fail))
    }
}

final class KAnonymityStep: DatasetStep {
    var readPositions: Set<Int> { Set(positions) }

    var stats = RuleStats()
    private let positions: [Int]
    private let k: Int
    private var counts: [ClassKey: Int] = [:]
    private var smallestKept = Int.max

    private let failOnViolation: Bool

    init(positions: [Int], k: Int, failOnViolation: Bool) {
        self.positions = positions
        self.k = k
        self.failOnViolation = failOnViolation
    }

    func observe(_ record: Record) {
        counts[ClassKey(record, positions), default: 0] += 1
    }

    func finishObserving() {}

    func apply(_ record: inout Record) throws(GovernanceError) -> Bool {
        let size = counts[ClassKey(record, positions), default: 0]
        if size < k {
            if failOnViolation {
                throw GovernanceError("k-anonymity gate: a class of the quasi-identifiers has \(size) record(s), "
                                      + "fewer than k = \(k) (action: fail)")
            }
            stats.rowsDropped += 1
            return false
        }
        smallestKept = min(smallestKept, size)
        return true
    }

    var details: [String: Int] {
        var details = ["k": k, "classes": counts.count, "classes_suppressed": counts.values.filter { $0 < k }.count]
        if smallestKept != .max { details["k_achieved"] = smallestKept }
        return details
    }
}

/// What a privacy gate does with records that break it.
public enum GateAction: String, Sendable, CaseIterable {
    /// Drop the offending records (the default).
    case suppress
    /// Stop the run: nothing is published.
    case fail

    static func decode(_ node: ConfigNode?, rule: String, diagnostics: inout Diagnostics) -> GateAction? {
        guard let node else { return .suppress }
        if let text = node.scalar, let action = GateAction(rawValue: text) { return action }
        diagnostics.error("'action' of rule '\(rule)' must be 'suppress' or 'fail'", at: node.location)
        return nil
    }
}

/// The quasi-identifier values of a record, compared as canonical text. Each value is prefixed with its length, so
/// that no two different tuples give the same key (a separator could appear inside a value and merge classes).
struct ClassKey: Hashable {
    let text: String
    init(_ record: Record, _ positions: [Int]) {
        var text = ""
        for position in positions {
            let value = record[position].text
            text += String(value.utf8.count)
            text += ":"
            text += value
        }
        self.text = text
    }
}
