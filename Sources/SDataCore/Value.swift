/// One typed cell of a record.
///
/// Values are the unit every part of S-Data agrees on: sources produce them, governance rules rewrite them and writers
/// format them. A value never knows which field it belongs to; the ``Schema`` of its batch does.
public enum Value: Sendable, Hashable {
    case null
    case string(String)
    case integer(Int64)
    /// A binary floating-point number, written in its shortest round-tripping form.
    case number(Double)
    /// A number rounded to a fixed count of decimal places (`generalize: { decimals: N }`), written with exactly
    /// `scale` digits after the point, as C's `printf("%.Nf")` does.
    case decimal(Double, scale: Int)
    case boolean(Bool)
    case date(LocalDate)
    case datetime(DateTime)

    /// The type this value has; `nil` for `null`, which fits every type.
    public var type: FieldType? {
        switch self {
        case .null: nil
        case .string: .string
        case .integer: .integer
        case .number, .decimal: .number
        case .boolean: .boolean
        case .date: .date
        case .datetime: .datetime
        }
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The string payload, when this is a string.
    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The value as a double, when it is numeric.
    public var doubleValue: Double? {
        switch self {
        case .integer(let int): Double(int)
        case .number(let double), .decimal(let double, _): double
        default: nil
        }
    }

    /// The canonical text form: what CSV cells hold and what detectors scan.
    ///
    /// `null` is the empty string; numbers use Swift's shortest round-tripping form (`1.5`, `1e-07`), except decimals,
    /// which keep their scale; dates and datetimes are ISO 8601.
    public var text: String {
        switch self {
        case .null: ""
        case .string(let text): text
        case .integer(let int): String(int)
        case .number(let double): Value.format(double)
        case .decimal(let double, let scale): DecimalFormat.fixed(double, scale: scale)
        case .boolean(let bool): bool ? "true" : "false"
        case .date(let date): date.description
        case .datetime(let dateTime): dateTime.description
        }
    }

    static func format(_ double: Double) -> String {
        if double.isFinite, double == double.rounded(), abs(double) < 1e15 {
            return String(Int64(double))
        }
        return String(double)
    }
}
