public import SDataCore

/// `l_diversity: { quasi_identifiers: [age_band, district], sensitive: diagnosis, l: 2, action: suppress }` requires
/// every class of the quasi-identifiers to hold at least `l` distinct values of the sensitive field, so that knowing
/// someone's class does not reveal their sensitive value. Classes that fall short are suppressed (or fail the run).
///
/// The observation pass keeps, per class, at most `l` distinct sensitive values: memory is bounded by classes × l.
public struct LDiversityRule: GovernanceRule {
    public static let name = "l_diversity"
    public static let summary = "Suppresses classes with fewer than l distinct values of a sensitive field."
    public let quasiIdentifiers: [String]
    public let sensitive: String
    public let l: Int
    public let action: GateAction

    public init(quasiIdentifiers: [String], sensitive: String, l: Int, action: GateAction = .suppress) {
        self.quasiIdentifiers = quasiIdentifiers
        self.sensitive = sensitive
        self.l = l
        self.action = action
    }

    public static func decode(_ node: ConfigNode, diagnostics: inout Diagnostics) -> LDiversityRule? {
        guard let options = RuleOptions(rule: name, node: node, allowed: ["quasi_identifiers", "sensitive", "l", "action"],
                                        diagnostics: &diagnostics) else { return nil }
        let l = options.require("l", diagnostics: &diagnostics) != nil
            ? options.integer("l", in: 2...1000, diagnostics: &diagnostics) : nil
        let sensitive = options.require("sensitive", diagnostics: &diagnostics)?.scalar
        guard let qiNode = options.require("quasi_identifiers", diagnostics: &diagnostics) else { return nil }
        guard let names = qiNode.stringList, !names.isEmpty else {
            diagnostics.error("'quasi_identifiers' must be a non-empty list of field names", at: qiNode.location)
            return nil
        }
        guard let l, let sensitive, let action = GateAction.decode(options["action"], rule: name, diagnostics: &diagnostics)
        else { return nil }
        return LDiversityRule(quasiIdentifiers: names, sensitive: sensitive, l: l, action: action)
    }

    public var referencedFields: [String] { quasiIdentifiers + [sensitive] }

    public func bind(to input: Schema) throws(GovernanceError) -> RuleStep {
        var positions: [Int] = []
        for field in quasiIdentifiers { positions.append(try input.require(field, for: Self.name)) }
        let sensitivePosition = try input.require(sensitive, for: Self.name)
        return .dataset(LDiversityStep(positions: positions, sensitive: sensitivePosition, l: l, action: action))
    }
}

final class LDiversityStep: DatasetStep {
    var readPositions: Set<Int> { Set(positions + [sensitive]) }

    var stats = RuleStats()
    private let positions: [Int]
    private let sensitive: Int
    private let l: Int
    private let action: GateAction
    private var distinct: [ClassKey: Set<String>] = [:]
    private var smallestKept = Int.max

    init(positions: [Int], sensitive: Int, l: Int, action: GateAction) {
        self.positions = positions
        self.sensitive = sensitive
        self.l = l
        self.action = action
    }

    func observe(_ record: Record) {
        let key = ClassKey(record, positions)
        if let values = distinct[key], values.count >= l { return }
        distinct[key, default: []].insert(record[sensitive].text)
    }

    func finishObserving() {}

    func apply(_ record: inout Record) throws(GovernanceError) -> Bool {
        let count = distinct[ClassKey(record, positions)]?.count ?? 0
        guard count >= l else {
            if action == .fail {
                throw GovernanceError("l-diversity gate: a class has \(count) distinct sensitive value(s), fewer than "
                                      + "l = \(l) (action: fail)")
            }
            stats.rowsDropped += 1
            return false
        }
        smallestKept = min(smallestKept, count)
        return true
    }

    var details: [String: Int] {
        var details = ["l": l, "classes": distinct.count, "classes_suppressed": distinct.values.filter { $0.count < l }.count]
        if smallestKept != .max { details["l_achieved"] = min(smallestKept, l) }
        return details
    }
}
