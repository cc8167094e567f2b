public import SDataCore

/// A parsed JSON value. Numbers keep their source text so that integers stay exact.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case let (.bool(a), .bool(b)): a == b
        case let (.number(a), .number(b)): a == b
        case let (.string(a), .string(b)): a == b
        case let (.array(a), .array(b)): a == b
        case let (.object(a), .object(b)): a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// The member `key` of an object.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members.first { $0.0 == key }?.1 }
        return nil
    }

    /// This value as a scalar ``Value``: integers when the number has no fraction or exponent and fits, numbers
    /// otherwise; arrays and objects become their compact JSON text.
    public var scalarValue: Value {
        switch self {
        case .null: .null
        case .bool(let bool): .boolean(bool)
        case .number(let text):
            if let int = Int64(text) { .integer(int) } else { Double(text).map(Value.number) ?? .string(text) }
        case .string(let text): .string(text)
        case .array, .object: .string(jsonText)
        }
    }

    /// An object flattened to record fields: nested objects become `parent.child` names; other values are scalars.
    public func recordFields(prefix: String = "") -> [(String, Value)] {
        guard case .object(let members) = self else {
            return [(prefix.isEmpty ? "value" : prefix, scalarValue)]
        }
        var fields: [(String, Value)] = []
        for (key, value) in members {
            let name = prefix.isEmpty ? key : prefix + "." + key
            if case .object = value {
                fields += value.recordFields(prefix: name)
            } else {
                fields.append((name, value.scalarValue))
            }
        }
        return fields
    }

    /// Compact JSON text.
    public var jsonText: String {
        switch self {
        case .null: "null"
        case .bool(let bool): bool ? "true" : "false"
        case .number(let text): text
        case .string(let text): JSONText.quote(text)
        case .array(let items): "[" + items.map(\.jsonText).joined(separator: ",") + "]"
        case .object(let members):
            "{" + members.map { JSONText.quote($0.0) + ":" + $0.1.jsonText }.joined(separator: ",") + "}"
        }
    }
}


extension JSONValue {
    /// The value at a dot-separated path of object keys (`response.body.items`); `nil` when a key is missing.
    public func value(at path: String) -> JSONValue? {
        var current: JSONValue? = self
        for key in path.split(separator: ".") where !key.isEmpty {
            current = current?[String(key)]
        }
        return current
    }

    /// The records a value holds, as APIs put them: an array gives its elements; a single object one record (the
    /// single-result quirk); `null`, `""` or a missing value none (the empty-result quirk).
    public var records: [JSONValue] {
        switch self {
        case .array(let items): items
        case .object: [self]
        case .null, .string(""): []
        default: [self]
        }
    }

    /// A number or numeric string as an integer (`"742"`, `742`, `742.0`).
    public var integer: Int? {
        switch self {
        case .number(let text), .string(let text):
            if let int = Int(text.trimmingWhitespace()) { return int }
            if let double = Double(text.trimmingWhitespace()), double.rounded() == double, abs(double) < 1e15 {
                return Int(double)
            }
            return nil
        default:
            return nil
        }
    }

    /// A scalar as text (`"INFO-000"`, `00`); `nil` for objects, arrays and null.
    public var text: String? {
        switch self {
        case .string(let text), .number(let text): text
        case .bool(let bool): bool ? "true" : "false"
        default: nil
        }
    }
}
