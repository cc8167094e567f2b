public import SDataCore

/// `generalize` coarsens values so that fewer records are unique:
/// - `band: 10` turns a number into the band holding it, written `30-39`;
/// - `decimals: 3` rounds a number to 3 decimal places (printf rounding of the exact binary value, written with exactly
///   3 digits);
/// - `truncate: hour` truncates a date or datetime to the start of the unit, keeping its UTC offset;
/// - `lookup: { 역삼동: 강남구, … }` climbs a hierarchy (dong → gu): each value is replaced by its parent; a value the
///   table does not know becomes null (`unmapped: null`, the default) or fails the run (`unmapped: fail`), so no
///   fine-grained value slips through.
/// Text values are read as the kind of value each variant needs; a value that cannot be read fails the run (the error
/// names the field and row, not the value).
public struct GeneralizeRule: GovernanceRule {
    public static let name = "generalize"
    public static let summary = "Coarsens values: numeric bands, decimal places, or date/time truncation."

    public enum Method: Sendable, Equatable {
        case band(Int)
        case decimals(Int)
        case truncate(TimeUnit)
        case lookup([String: String], failUnmapped: Bool)
    }

    public let fields: [String]
    public let method: Method

    public init(fields: [String], method: Method) {
        self.fields = fields
        self.method = method
    }

    public static func decode(_ node: ConfigNode, diagnostics: inout Diagnostics) -> GeneralizeRule? {
        guard let options = RuleOptions(rule: name, node: node, allowed: ["field", "fields", "band", "decimals", "truncate", "lookup", "unmapped"],
                                        diagnostics: &diagnostics) else { return nil }
        let fields = options.fields(diagnostics: &diagnostics)
        let given = ["band", "decimals", "truncate", "lookup"].filter { options[$0] != nil }
        guard given.count == 1 else {
            diagnostics.error("rule 'generalize' takes exactly one of 'band', 'decimals', 'truncate' or 'lookup'",
                              at: node.location)
            return nil
        }
        let method: Method
        switch given[0] {
        case "band":
            guard let band = options.integer("band", in: 1...1_000_000_000, diagnostics: &diagnostics) else { return nil }
            method = .band(band)
        case "decimals":
            guard let places = options.integer("decimals", in: 0...12, diagnostics: &diagnostics) else { return nil }
            method = .decimals(places)
        case "lookup":
            let table = options["lookup"]!
            guard let pairs = table.mapping, !pairs.isEmpty,
                  pairs.allSatisfy({ $0.key.scalar != nil && $0.value.scalar != nil }) else {
                diagnostics.error("'lookup' of rule 'generalize' must map values to their parents", at: table.location)
                return nil
            }
            var failUnmapped = false
            if let unmapped = options["unmapped"] {
                switch unmapped.scalar {
                case "null": failUnmapped = false
                case "fail": failUnmapped = true
                default:
                    diagnostics.error("'unmapped' must be 'null' or 'fail'", at: unmapped.location)
                    return nil
                }
            }
            method = .lookup(Dictionary(pairs.map { ($0.key.scalar!, $0.value.scalar!) }, uniquingKeysWith: { $1 }),
                             failUnmapped: failUnmapped)
        default:
            let unitNode = options["truncate"]!
            guard let text = unitNode.scalar, let unit = TimeUnit(rawValue: text) else {
                let units = TimeUnit.allCases.map(\.rawValue)
                diagnostics.error("'truncate' must be one of \(units.joined(separator: ", "))"
                                  + Suggestion.hint(for: unitNode.scalar ?? "", in: units), at: unitNode.location)
                return nil
            }
            method = .truncate(unit)
        }
        guard let fields else { return nil }
        return GeneralizeRule(fields: fields, method: method)
    }

    public var referencedFields: [String] { fields }

    public func bind(to input: Schema) throws(GovernanceError) -> RuleStep {
        var positions: [Int] = []
        for field in fields { positions.append(try input.require(field, for: Self.name)) }
        let method = self.method
        return .record(MapStep(input: input, positions: positions, rule: Self.name, expected: method.expected,
                               type: method.outputType) { GeneralizeRule.generalize($0, method) })
    }
}

extension GeneralizeRule.Method {
    var expected: String {
        switch self {
        case .band, .decimals: "a number"
        case .truncate: "a date or datetime"
        case .lookup: "a value of the lookup table (unmapped: fail)"
        }
    }

    func outputType(_ field: Field) -> FieldType? {
        switch self {
        case .band, .lookup: .string
        case .decimals: .number
        case .truncate: field.type == .date ? nil : .datetime
        }
    }
}

extension GeneralizeRule {
    static func generalize(_ value: Value, _ method: Method) -> Value? {
        switch method {
        case .band(let width):
            let number: Double
            switch value {
            case .integer(let int):
                let low = Int64(floorDivide(int, Int64(width))) * Int64(width)
                return .string("\(low)-\(low + Int64(width) - 1)")
            case .string(let text):
                if let int = Int64(text) { return generalize(.integer(int), method) }
                guard let double = Double(text), double.isFinite else { return nil }
                number = double
            default:
                guard let double = value.doubleValue else { return nil }
                number = double
            }
            let low = Int64((number / Double(width)).rounded(.down)) * Int64(width)
            return .string("\(low)-\(low + Int64(width) - 1)")
        case .decimals(let places):
            let number: Double?
            if case .string(let text) = value { number = Double(text) } else { number = value.doubleValue }
            guard let number, number.isFinite else { return nil }
            return .decimal(number, scale: places)
        case .lookup(let table, let failUnmapped):
            if let parent = table[value.text] { return .string(parent) }
            return failUnmapped ? nil : .null
        case .truncate(let unit):
            switch value {
            case .datetime(let dateTime): return .datetime(unit.truncate(dateTime))
            case .date(let date): return .date(unit.truncate(date))
            case .string(let text):
                if let dateTime = DatePattern.parseISODateTime(text) { return .datetime(unit.truncate(dateTime)) }
                if let date = DatePattern.parseISODate(text) { return .date(unit.truncate(date)) }
                return nil
            default: return nil
            }
        }
    }

    static func floorDivide(_ lhs: Int64, _ rhs: Int64) -> Int64 {
        let quotient = lhs / rhs
        return (lhs % rhs != 0 && (lhs < 0) != (rhs < 0)) ? quotient - 1 : quotient
    }
}
