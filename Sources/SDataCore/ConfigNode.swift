/// A located configuration tree: what a YAML spec becomes after loading and interpolation.
///
/// Plugins and governance rules read their options from nodes, so every error they report can point at the spec line.
public struct ConfigNode: Sendable {
    public enum Content: Sendable {
        case scalar(String)
        case sequence([ConfigNode])
        case mapping([(key: ConfigNode, value: ConfigNode)])
        case null
    }

    public var content: Content
    public var location: SourceLocation?
    /// True when the text came from a `${secret:…}` reference: the value must never be shown.
    public var isSecret: Bool

    public init(_ content: Content, at location: SourceLocation? = nil, isSecret: Bool = false) {
        self.content = content
        self.location = location
        self.isSecret = isSecret
    }

    public static func scalar(_ text: String, at location: SourceLocation? = nil) -> ConfigNode {
        ConfigNode(.scalar(text), at: location)
    }

    public var scalar: String? {
        if case .scalar(let text) = content { return text }
        return nil
    }

    public var sequence: [ConfigNode]? {
        if case .sequence(let items) = content { return items }
        return nil
    }

    public var mapping: [(key: ConfigNode, value: ConfigNode)]? {
        if case .mapping(let pairs) = content { return pairs }
        return nil
    }

    public var isNull: Bool {
        if case .null = content { return true }
        return false
    }

    /// The value under `key` in a mapping.
    public subscript(key: String) -> ConfigNode? {
        mapping?.first { $0.key.scalar == key }?.value
    }

    /// The kind of node, for error messages.
    public var kindName: String {
        switch content {
        case .scalar: "a scalar"
        case .sequence: "a list"
        case .mapping: "a mapping"
        case .null: "null"
        }
    }

    /// A scalar as a list of one, or a list of scalars: `fields: a` and `fields: [a, b]` both work.
    public var stringList: [String]? {
        if let scalar { return [scalar] }
        guard let items = sequence else { return nil }
        let strings = items.compactMap(\.scalar)
        return strings.count == items.count ? strings : nil
    }

    public var bool: Bool? {
        switch scalar {
        case "true", "yes", "on": true
        case "false", "no", "off": false
        default: nil
        }
    }

    public var int: Int? { scalar.flatMap { Int($0) } }
    public var double: Double? { scalar.flatMap { Double($0) } }
}

extension ConfigNode {
    /// The node as compact JSON, for handing configuration to external programs (a Singer tap's config). Plain
    /// scalars that read as integers, numbers, booleans or null become those JSON types; everything else is a string.
    public var jsonText: String {
        switch content {
        case .null:
            return "null"
        case .scalar(let text):
            if isSecret { return JSONText.quote(text) }
            switch text {
            case "true", "false", "null": return text
            default: break
            }
            if Int64(text) != nil { return text }
            if let number = Double(text), number.isFinite, text.first != "+", !text.hasPrefix("."),
               text.allSatisfy({ $0.isNumber || $0 == "." || $0 == "-" || $0 == "e" || $0 == "E" }) {
                return text
            }
            return JSONText.quote(text)
        case .sequence(let items):
            return "[" + items.map(\.jsonText).joined(separator: ",") + "]"
        case .mapping(let pairs):
            return "{" + pairs.map { JSONText.quote($0.key.scalar ?? "") + ":" + $0.value.jsonText }
                .joined(separator: ",") + "}"
        }
    }
}

/// A secret node prints masked: specs end up in error messages (a service's failure prints the service).
extension ConfigNode: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        if isSecret { return "ConfigNode(***)" }
        switch content {
        case .scalar(let text): return "ConfigNode(\(text))"
        case .sequence(let items): return "ConfigNode(\(items))"
        case .mapping(let pairs): return "ConfigNode(\(pairs))"
        case .null: return "ConfigNode(null)"
        }
    }

    public var debugDescription: String { description }
}
