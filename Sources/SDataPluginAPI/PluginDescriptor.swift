/// What a source plugin tells the world about itself: its name, what it does, and every option it takes.
///
/// One descriptor drives `sdata validate` (options are checked against it before anything runs), `sdata plugins`
/// and the generated `docs/plugins/*.md`.
public struct PluginDescriptor: Sendable {
    /// The kebab-case name used in specs (`plugin: file`).
    public var id: String
    /// One sentence: what the plugin reads.
    public var summary: String
    /// A longer description in Markdown, shown by `sdata plugins NAME`.
    public var details: String
    public var options: [OptionSpec]
    /// A complete `source:` block that validates, shown in docs.
    public var example: String

    public init(id: String, summary: String, details: String = "", options: [OptionSpec], example: String) {
        self.id = id
        self.summary = summary
        self.details = details
        self.options = options
        self.example = example
    }

    public func option(named name: String) -> OptionSpec? {
        options.first { $0.name == name }
    }
}

/// One documented option of a plugin.
public struct OptionSpec: Sendable {
    public enum Kind: Sendable, Equatable {
        case string
        case integer(ClosedRange<Int>?)
        case number
        case boolean
        case choice([String])
        case stringList
        /// A mapping of strings to strings (HTTP headers, query parameters).
        case stringMap
        /// Any YAML value, handed on as JSON (a Singer tap's config).
        case any

        public var label: String {
            switch self {
            case .string: "string"
            case .integer(let range?): "integer (\(range.lowerBound)…\(range.upperBound))"
            case .integer(nil): "integer"
            case .number: "number"
            case .boolean: "boolean"
            case .choice(let values): values.joined(separator: " | ")
            case .stringList: "list of strings"
            case .stringMap: "mapping of strings"
            case .any: "any value (passed on as JSON)"
            }
        }
    }

    public var name: String
    public var kind: Kind
    public var required: Bool
    /// The default, as it would be written in YAML; `nil` when there is none.
    public var defaultValue: String?
    public var summary: String
    /// True for options that carry credentials: their values are never shown and should come from `${secret:…}`.
    public var isSecret: Bool

    public init(_ name: String, _ kind: Kind, required: Bool = false, default defaultValue: String? = nil,
                secret: Bool = false, _ summary: String) {
        self.name = name
        self.kind = kind
        self.required = required
        self.defaultValue = defaultValue
        self.summary = summary
        self.isSecret = secret
    }
}
