public import SDataCore

/// `drop: [name, resident_id]` removes fields entirely.
public struct DropRule: GovernanceRule {
    public static let name = "drop"
    public static let summary = "Removes fields from the output."
    public let fields: [String]

    public init(fields: [String]) { self.fields = fields }

    public static func decode(_ node: ConfigNode, diagnostics: inout Diagnostics) -> DropRule? {
        guard let fields = node.stringList, !fields.isEmpty else {
            diagnostics.error("rule 'drop' takes a field name or a list of field names", at: node.location)
            return nil
        }
        return DropRule(fields: fields)
    }

    public var referencedFields: [String] { fields }

    public func bind(to input: Schema) throws(GovernanceError) -> RuleStep {
        var dropped = Set<Int>()
        for field in fields { dropped.insert(try input.require(field, for: Self.name)) }
        let kept = input.fields.indices.filter { !dropped.contains($0) }
        return .record(Projection(input: input, positions: kept, names: kept.map { input.fields[$0].name }))
    }
}

/// `select: [a, b, c]` keeps these fields, in this order, and nothing else.
public struct SelectRule: GovernanceRule {
    public static let name = "select"
    public static let summary = "Keeps only the listed fields, in the listed order."
    public let fields: [String]

    public init(fields: [String]) { self.fields = fields }

    public static func decode(_ node: ConfigNode, diagnostics: inout Diagnostics) -> SelectRule? {
        guard let fields = node.stringList, !fields.isEmpty else {
            diagnostics.error("rule 'select' takes a list of field names", at: node.location)
            return nil
        }
        if Set(fields).count != fields.count {
            diagnostics.error("rule 'select' lists a field twice", at: node.location)
            return nil
        }
        return SelectRule(fields: fields)
    }

    public var referencedFields: [String] { fields }

    public func bind(to input: Schema) throws(GovernanceError) -> RuleStep {
        var positions: [Int] = []
        for field in fields { positions.append(try input.require(field, for: Self.name)) }
        return .record(Projection(input: input, positions: positions, names: fields))
    }
}

/// `rename: { old: new }` renames fields in place.
public struct RenameRule: GovernanceRule {
    public static let name = "rename"
    public static let summary = "Renames fields, keeping their position."
    public let mapping: [(from: String, to: String)]

    public init(mapping: [(from: String, to: String)]) { self.mapping = mapping }

    public static func decode(_ node: ConfigNode, diagnostics: inout Diagnostics) -> RenameRule? {
        guard let pairs = node.mapping, !pairs.isEmpty,
              pairs.allSatisfy({ $0.key.scalar != nil && $0.value.scalar != nil }) else {
            diagnostics.error("rule 'rename' takes a mapping of old names to new names", at: node.location)
            return nil
        }
        return RenameRule(mapping: pairs.map { ($0.key.scalar!, $0.value.scalar!) })
    }

    public var referencedFields: [String] { mapping.map(\.from) }

    public func bind(to input: Schema) throws(GovernanceError) -> RuleStep {
        var names = input.names
        for (from, to) in mapping { names[try input.require(from, for: Self.name)] = to }
        guard Set(names).count == names.count else {
            throw GovernanceError("rule 'rename' would give two fields the same name")
        }
        return .record(Projection(input: input, positions: Array(input.fields.indices), names: names))
    }
}

/// Picks and renames columns: the step behind drop, select and rename.
final class Projection: RecordStep {
    let outputSchema: Schema
    var stats = RuleStats()
    /// Output field `i` is input field `positions[i]`.
    let positions: [Int]
    private let identity: Bool

    init(input: Schema, positions: [Int], names: [String]) {
        self.positions = positions
        outputSchema = Schema(zip(positions, names).map { position, name in
            var field = input.fields[position]
            field.name = name
            return field
        })
        identity = positions == Array(input.fields.indices)
    }

    func apply(_ record: inout Record) throws(GovernanceError) -> Bool {
        if !identity { record = positions.map { record[$0] } }
        return true
    }
}
