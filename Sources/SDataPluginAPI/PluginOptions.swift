public import SDataCore

/// A plugin's options after they were checked against its descriptor: every key is known and every value has the
/// declared kind. Accessors fall back to the descriptor's defaults.
public struct PluginOptions: Sendable {
    public let descriptor: PluginDescriptor
    private let values: [String: ConfigNode]
    /// Where the `with:` block is, for errors that concern the block as a whole.
    public let location: SourceLocation?

    /// Checks `node` (the spec's `with:` mapping) against `descriptor`, reporting every problem to `diagnostics`.
    public static func validate(_ node: ConfigNode?, against descriptor: PluginDescriptor,
                                diagnostics: inout Diagnostics) -> PluginOptions {
        var values: [String: ConfigNode] = [:]
        let pairs = node?.mapping ?? []
        if let node, node.mapping == nil, !node.isNull {
            diagnostics.error("'with' must be a mapping of \(descriptor.id) options, found \(node.kindName)", at: node.location)
        }
        for (key, value) in pairs {
            guard let name = key.scalar else { continue }
            guard let spec = descriptor.option(named: name) else {
                let hint = Suggestion.hint(for: name, in: descriptor.options.map(\.name))
                diagnostics.error("unknown option '\(name)' for plugin '\(descriptor.id)'\(hint)", at: key.location)
                continue
            }
            if let problem = check(value, against: spec) {
                diagnostics.error("option '\(name)' of plugin '\(descriptor.id)' \(problem)", at: value.location ?? key.location)
            }
            values[name] = value
        }
        for spec in descriptor.options where spec.required && values[spec.name] == nil {
            diagnostics.error("plugin '\(descriptor.id)' needs option '\(spec.name)': \(spec.summary)", at: node?.location)
        }
        return PluginOptions(descriptor: descriptor, values: values, location: node?.location)
    }

    /// Options given directly, for tests and embedding; unknown or mistyped options throw.
    public init(descriptor: PluginDescriptor, _ raw: [String: ConfigNode]) throws {
        var diagnostics = Diagnostics()
        let node = ConfigNode(.mapping(raw.map { (ConfigNode.scalar($0.key), $0.value) }))
        self = PluginOptions.validate(node, against: descriptor, diagnostics: &diagnostics)
        if diagnostics.hasErrors { throw DiagnosticsError(diagnostics.items) }
    }

    private init(descriptor: PluginDescriptor, values: [String: ConfigNode], location: SourceLocation?) {
        self.descriptor = descriptor
        self.values = values
        self.location = location
    }

    private static func check(_ node: ConfigNode, against spec: OptionSpec) -> String? {
        switch spec.kind {
        case .string:
            return node.scalar == nil ? "must be a string, found \(node.kindName)" : nil
        case .integer(let range):
            guard let int = node.int else { return "must be an integer" }
            if let range, !range.contains(int) { return "must be between \(range.lowerBound) and \(range.upperBound)" }
            return nil
        case .number:
            return node.double == nil ? "must be a number" : nil
        case .boolean:
            return node.bool == nil ? "must be true or false" : nil
        case .choice(let choices):
            guard let text = node.scalar else { return "must be one of \(choices.joined(separator: ", "))" }
            if choices.contains(text) { return nil }
            let shown = node.isSecret ? "the given value" : "'\(text)'"
            return "must be one of \(choices.joined(separator: ", ")), not \(shown)\(Suggestion.hint(for: text, in: choices))"
        case .stringList:
            return node.stringList == nil ? "must be a string or a list of strings" : nil
        case .any:
            return nil
        case .stringMap:
            guard let pairs = node.mapping, pairs.allSatisfy({ $0.key.scalar != nil && $0.value.scalar != nil }) else {
                return "must be a mapping of names to strings"
            }
            return nil
        }
    }

    /// Where option `name` was written, for errors about it.
    public func location(of name: String) -> SourceLocation? {
        values[name]?.location ?? location
    }

    private func node(_ name: String) -> ConfigNode? {
        if let node = values[name] { return node }
        return descriptor.option(named: name)?.defaultValue.map { ConfigNode.scalar($0) }
    }

    public func contains(_ name: String) -> Bool { values[name] != nil }
    /// The option's node as written, for `.any` options.
    public func value(_ name: String) -> ConfigNode? { node(name) }
    public func string(_ name: String) -> String? { node(name)?.scalar }
    public func int(_ name: String) -> Int? { node(name)?.int }
    public func double(_ name: String) -> Double? { node(name)?.double }
    public func bool(_ name: String) -> Bool? { node(name)?.bool }
    public func strings(_ name: String) -> [String]? { node(name)?.stringList }

    public func stringMap(_ name: String) -> [(String, String)] {
        (node(name)?.mapping ?? []).compactMap { pair in
            guard let key = pair.key.scalar, let value = pair.value.scalar else { return nil }
            return (key, value)
        }
    }
}

/// Thrown by a plugin's initializer when an option is unusable; the spec loader turns it into a located diagnostic.
public struct OptionError: Error, Sendable, CustomStringConvertible {
    public let option: String
    public let message: String

    public init(option: String, _ message: String) {
        self.option = option
        self.message = message
    }

    public var description: String { "option '\(option)' \(message)" }
}
