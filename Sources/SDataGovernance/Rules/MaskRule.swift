public import SDataCore

/// `mask: { field: card_number, keep_last: 4, with: "*" }` replaces every character but the last `keep_last` with
/// the mask character: `1234-5678-9012-3456` → `***************3456`.
public struct MaskRule: GovernanceRule {
    public static let name = "mask"
    public static let summary = "Hides all but the last N characters of values."
    public let fields: [String]
    public let keepLast: Int
    public let mask: Character

    public init(fields: [String], keepLast: Int, mask: Character = "*") {
        self.fields = fields
        self.keepLast = keepLast
        self.mask = mask
    }

    public static func decode(_ node: ConfigNode, diagnostics: inout Diagnostics) -> MaskRule? {
        guard let options = RuleOptions(rule: name, node: node, allowed: ["field", "fields", "keep_last", "with"],
                                        diagnostics: &diagnostics) else { return nil }
        let fields = options.fields(diagnostics: &diagnostics)
        let keepLast = options.integer("keep_last", in: 0...64, diagnostics: &diagnostics) ?? 0
        var mask: Character = "*"
        if let node = options["with"] {
            guard let text = node.scalar, text.count == 1 else {
                diagnostics.error("'with' of rule 'mask' must be one character", at: node.location)
                return nil
            }
            mask = text.first!
        }
        guard let fields else { return nil }
        return MaskRule(fields: fields, keepLast: keepLast, mask: mask)
    }

    public var referencedFields: [String] { fields }

    public func bind(to input: Schema) throws(GovernanceError) -> RuleStep {
        var positions: [Int] = []
        for field in fields { positions.append(try input.require(field, for: Self.name)) }
        return .record(MapStep(input: input, positions: positions, rule: Self.name, expected: "text", type: { _ in .string }) { value in
            let text = value.text
            let kept = text.suffix(keepLast)
            return .string(String(repeating: mask, count: text.count - kept.count) + kept)
        })
    }
}

/// `top_bottom_code: { field: age, top: 90, bottom: 0 }` pulls extreme values in: a value above `top` becomes
/// `top`, one below `bottom` becomes `bottom`, so that the oldest (or richest) person is not unique.
public struct TopBottomCodeRule: GovernanceRule {
    public static let name = "top_bottom_code"
    public static let summary = "Caps values above 'top' and below 'bottom'."
    public let fields: [String]
    public let top: Double?
    public let bottom: Double?

    public init(fields: [String], top: Double?, bottom: Double?) {
        self.fields = fields
        self.top = top
        self.bottom = bottom
    }

    public static func decode(_ node: ConfigNode, diagnostics: inout Diagnostics) -> TopBottomCodeRule? {
        guard let options = RuleOptions(rule: name, node: node, allowed: ["field", "fields", "top", "bottom"],
                                        diagnostics: &diagnostics) else { return nil }
        let fields = options.fields(diagnostics: &diagnostics)
        var bounds: [String: Double] = [:]
        for key in ["top", "bottom"] {
            guard let value = options[key] else { continue }
            guard let number = value.double else {
                diagnostics.error("'\(key)' of rule 'top_bottom_code' must be a number", at: value.location)
                return nil
            }
            bounds[key] = number
        }
        if bounds.isEmpty {
            diagnostics.error("rule 'top_bottom_code' needs 'top' or 'bottom'", at: node.location)
            return nil
        }
        if let top = bounds["top"], let bottom = bounds["bottom"], bottom > top {
            diagnostics.error("'bottom' of rule 'top_bottom_code' is above 'top'", at: node.location)
            return nil
        }
        guard let fields else { return nil }
        return TopBottomCodeRule(fields: fields, top: bounds["top"], bottom: bounds["bottom"])
    }

    public var referencedFields: [String] { fields }

    public func bind(to input: Schema) throws(GovernanceError) -> RuleStep {
        var positions: [Int] = []
        for field in fields { positions.append(try input.require(field, for: Self.name)) }
        return .record(MapStep(input: input, positions: positions, rule: Self.name, expected: "a number",
                               type: { _ in nil }) { value in
            let number: Double?
            if case .string(let text) = value { number = Double(text) } else { number = value.doubleValue }
            guard let number else { return nil }
            if let top, number > top { return Self.same(kind: value, top) }
            if let bottom, number < bottom { return Self.same(kind: value, bottom) }
            return value
        })
    }

    /// `bound` as a value of the same kind as `value` (integers stay integers when the bound is whole).
    static func same(kind value: Value, _ bound: Double) -> Value {
        switch value {
        case .integer where bound == bound.rounded(): .integer(Int64(bound))
        case .decimal(_, let scale): .decimal(bound, scale: scale)
        case .string: .string(Value.number(bound).text)
        default: .number(bound)
        }
    }
}

/// A per-record step that maps the values of some fields; `nil` from the transform means "cannot read this value",
/// which fails the run with the rule, field and record named (never the value).
final class MapStep: RecordStep {
    var rewrittenPositions: Set<Int>? { Set(positions) }

    let outputSchema: Schema
    var stats = RuleStats()
    private let positions: [Int]
    private let rule: String
    private let expected: String
    private let transform: (Value) -> Value?
    private var row = 0

    /// `type` gives each mapped field's output type from its input field (`nil`: unchanged).
    init(input: Schema, positions: [Int], rule: String, expected: String, type: (Field) -> FieldType?,
         transform: @escaping (Value) -> Value?) {
        var schema = input
        for position in positions {
            if let newType = type(input.fields[position]) { schema.setType(newType, at: position) }
        }
        outputSchema = schema
        self.positions = positions
        self.rule = rule
        self.expected = expected
        self.transform = transform
    }

    func apply(_ record: inout Record) throws(GovernanceError) -> Bool {
        row += 1
        for position in positions where !record[position].isNull {
            guard let value = transform(record[position]) else {
                let name = outputSchema.fields[position].name
                throw GovernanceError("rule '\(rule)' cannot read field '\(name)' of record \(row) as \(expected)")
            }
            if value != record[position] {
                record[position] = value
                stats.valuesChanged += 1
            }
        }
        return true
    }
}
