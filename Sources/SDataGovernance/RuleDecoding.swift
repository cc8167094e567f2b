public import SDataCore

/// Strict reading of a rule's mapping: every key must be known, required keys present.
public struct RuleOptions {
    public let rule: String
    public let node: ConfigNode
    private var seen: Set<String> = []

    /// Checks that `node` is a mapping with only `allowed` keys.
    public init?(rule: String, node: ConfigNode, allowed: [String], diagnostics: inout Diagnostics) {
        self.rule = rule
        self.node = node
        guard let pairs = node.mapping else {
            diagnostics.error("rule '\(rule)' takes a mapping of options (\(allowed.joined(separator: ", "))), found \(node.kindName)",
                              at: node.location)
            return nil
        }
        var valid = true
        for (key, _) in pairs {
            guard let name = key.scalar else { continue }
            if !allowed.contains(name) {
                diagnostics.error("unknown option '\(name)' for rule '\(rule)'\(Suggestion.hint(for: name, in: allowed))",
                                  at: key.location)
                valid = false
            }
        }
        if !valid { return nil }
    }

    public subscript(key: String) -> ConfigNode? { node[key] }

    public func require(_ key: String, diagnostics: inout Diagnostics) -> ConfigNode? {
        if let value = node[key] { return value }
        diagnostics.error("rule '\(rule)' needs '\(key)'", at: node.location)
        return nil
    }

    /// `field: x` or `fields: [x, y]`, exactly one of them.
    public func fields(diagnostics: inout Diagnostics) -> [String]? {
        switch (node["field"], node["fields"]) {
        case (let one?, nil):
            guard let name = one.scalar else {
                diagnostics.error("'field' of rule '\(rule)' must be a field name", at: one.location)
                return nil
            }
            return [name]
        case (nil, let many?):
            guard let names = many.stringList, !names.isEmpty else {
                diagnostics.error("'fields' of rule '\(rule)' must be a non-empty list of field names", at: many.location)
                return nil
            }
            return names
        case (_?, let many?):
            diagnostics.error("rule '\(rule)' takes 'field' or 'fields', not both", at: many.location)
            return nil
        case (nil, nil):
            diagnostics.error("rule '\(rule)' needs 'field' or 'fields'", at: node.location)
            return nil
        }
    }

    public func integer(_ key: String, in range: ClosedRange<Int>, diagnostics: inout Diagnostics) -> Int? {
        guard let value = node[key] else { return nil }
        guard let int = value.int, range.contains(int) else {
            diagnostics.error("'\(key)' of rule '\(rule)' must be an integer between \(range.lowerBound) and \(range.upperBound)",
                              at: value.location)
            return nil
        }
        return int
    }
}

extension Schema {
    /// The position of `name`, or an error naming the rule and the fields that do exist.
    func require(_ name: String, for rule: String) throws(GovernanceError) -> Int {
        if let index = index(of: name) { return index }
        throw GovernanceError("rule '\(rule)' refers to field '\(name)', which is not in the data at that point"
            + Suggestion.hint(for: name, in: names))
    }
}
