public import SDataCore

/// `suppress: { field: nationality, min_count: 10 }` blanks (nulls) the values of a field that occur fewer than
/// `min_count` times in the whole dataset — rare categories single people out — and/or the listed `values`.
/// The record stays; only the cell is suppressed. Counting keeps one counter per distinct value.
public struct SuppressRule: GovernanceRule {
    public static let name = "suppress"
    public static let summary = "Blanks rare values (fewer than min_count occurrences) or listed values of fields."
    public let fields: [String]
    public let minCount: Int?
    public let values: Set<String>

    public init(fields: [String], minCount: Int?, values: Set<String> = []) {
        self.fields = fields
        self.minCount = minCount
        self.values = values
    }

    public static func decode(_ node: ConfigNode, diagnostics: inout Diagnostics) -> SuppressRule? {
        guard let options = RuleOptions(rule: name, node: node, allowed: ["field", "fields", "min_count", "values"],
                                        diagnostics: &diagnostics) else { return nil }
        let fields = options.fields(diagnostics: &diagnostics)
        let minCount = options.integer("min_count", in: 2...1_000_000_000, diagnostics: &diagnostics)
        var values: Set<String> = []
        if let list = options["values"] {
            guard let names = list.stringList else {
                diagnostics.error("'values' of rule 'suppress' must be a list of values", at: list.location)
                return nil
            }
            values = Set(names)
        }
        if minCount == nil && values.isEmpty {
            diagnostics.error("rule 'suppress' needs 'min_count' or 'values'", at: node.location)
            return nil
        }
        guard let fields else { return nil }
        return SuppressRule(fields: fields, minCount: minCount, values: values)
    }

    public var referencedFields: [String] { fields }

    public func bind(to input: Schema) throws(GovernanceError) -> RuleStep {
        var positions: [Int] = []
        for field in fields { positions.append(try input.require(field, for: Self.name)) }
        return .dataset(SuppressStep(positions: positions, minCount: minCount ?? 0, values: values))
    }
}

final class SuppressStep: DatasetStep {
    var readPositions: Set<Int> { Set(positions) }

    var stats = RuleStats()
    private let positions: [Int]
    private let minCount: Int
    private let values: Set<String>
    private var counts: [[String: Int]]

    init(positions: [Int], minCount: Int, values: Set<String>) {
        self.positions = positions
        self.minCount = minCount
        self.values = values
        counts = Array(repeating: [:], count: positions.count)
    }

    func observe(_ record: Record) {
        guard minCount > 0 else { return }
        for (slot, position) in positions.enumerated() where !record[position].isNull {
            counts[slot][record[position].text, default: 0] += 1
        }
    }

    func finishObserving() {}

    func apply(_ record: inout Record) throws(GovernanceError) -> Bool {
        for (slot, position) in positions.enumerated() where !record[position].isNull {
            let text = record[position].text
            if values.contains(text) || (minCount > 0 && counts[slot][text, default: 0] < minCount) {
                record[position] = .null
                stats.valuesChanged += 1
            }
        }
        return true
    }

    var details: [String: Int] {
        ["min_count": minCount,
         "values_rare": counts.reduce(0) { $0 + $1.values.filter { $0 < minCount }.count }]
    }
}
