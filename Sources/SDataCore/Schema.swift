/// One column of a schema.
public struct Field: Sendable, Hashable, Codable {
    public var name: String
    public var type: FieldType
    /// A human description, published in the Data Package.
    public var description: String?

    public init(name: String, type: FieldType, description: String? = nil) {
        self.name = name
        self.type = type
        self.description = description
    }
}

/// An ordered list of uniquely named fields.
///
/// A record batch shares one schema among its records; looking a field up by name is a dictionary hit.
public struct Schema: Sendable, Hashable {
    public private(set) var fields: [Field]
    private var positions: [String: Int]

    public init(_ fields: [Field] = []) {
        self.fields = []
        self.positions = [:]
        for field in fields { append(field) }
    }

    public var count: Int { fields.count }
    public var names: [String] { fields.map(\.name) }

    public func index(of name: String) -> Int? { positions[name] }

    public subscript(name: String) -> Field? {
        positions[name].map { fields[$0] }
    }

    /// Appends `field`, or replaces the field of the same name keeping its position.
    public mutating func append(_ field: Field) {
        if let position = positions[field.name] {
            fields[position] = field
        } else {
            positions[field.name] = fields.count
            fields.append(field)
        }
    }

    public mutating func setType(_ type: FieldType, at index: Int) {
        fields[index].type = type
    }

    public static func == (lhs: Schema, rhs: Schema) -> Bool { lhs.fields == rhs.fields }
    public func hash(into hasher: inout Hasher) { hasher.combine(fields) }
}
