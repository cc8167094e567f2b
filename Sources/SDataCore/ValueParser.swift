/// Converts source text into typed values, as a declared schema asks.
public struct ValueParser: Sendable {
    public let type: FieldType
    public let pattern: DatePattern?

    public init(type: FieldType, pattern: DatePattern? = nil) {
        self.type = type
        self.pattern = pattern
    }

    /// The typed value of `value`, or `nil` when it cannot be read as the type. Empty text and `null` become `null`.
    public func parse(_ value: Value) -> Value? {
        switch value {
        case .null: return .null
        case .string(let text): return parse(text)
        default:
            if value.type == type { return value }
            return parse(value.text)
        }
    }

    public func parse(_ text: String) -> Value? {
        if text.isEmpty { return .null }
        switch type {
        case .string:
            return .string(text)
        case .integer:
            if let int = Int64(text) { return .integer(int) }
            // Sources such as Seoul's send integral numbers as `156.0`.
            if let double = Double(text), double == double.rounded(), abs(double) < 9.0e15 { return .integer(Int64(double)) }
            return nil
        case .number:
            return Double(text).flatMap { $0.isFinite ? .number($0) : nil }
        case .boolean:
            switch text.lowercased() {
            case "true", "yes", "y", "1": return .boolean(true)
            case "false", "no", "n", "0": return .boolean(false)
            default: return nil
            }
        case .date:
            if let pattern { return pattern.parse(text).map { .date($0.date) } }
            return DatePattern.parseISODate(text).map(Value.date)
        case .datetime:
            if let pattern { return pattern.parse(text).map(Value.datetime) }
            return DatePattern.parseISODateTime(text).map(Value.datetime)
        }
    }
}
