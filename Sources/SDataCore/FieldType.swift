/// The logical type of a field, named as in Frictionless Table Schema.
public enum FieldType: String, Sendable, Hashable, CaseIterable, Codable {
    case string, integer, number, boolean, date, datetime

    /// The narrowest type that holds values of both `self` and `other`.
    ///
    /// Integers widen to numbers; any other mix widens to strings.
    public func unified(with other: FieldType) -> FieldType {
        if self == other { return self }
        switch (self, other) {
        case (.integer, .number), (.number, .integer): return .number
        default: return .string
        }
    }
}
