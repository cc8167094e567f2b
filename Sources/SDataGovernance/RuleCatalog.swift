public import SDataCore

/// The governance rules a spec may use, by key.
public enum RuleCatalog {
    public static let rules: [any GovernanceRule.Type] = [
        DropRule.self, RenameRule.self, SelectRule.self, PseudonymizeRule.self, MaskRule.self, GeneralizeRule.self,
        TopBottomCodeRule.self, GeoGridRule.self, RedactRule.self, SuppressRule.self, KAnonymityRule.self,
        LDiversityRule.self, ExpireRule.self, AggregateRule.self,
    ]

    public static var names: [String] { rules.map { $0.name } }

    /// Decodes one entry of `governance.rules`: a mapping with a single key naming the rule.
    public static func decode(_ node: ConfigNode, diagnostics: inout Diagnostics) -> (any GovernanceRule)? {
        guard let pairs = node.mapping, pairs.count == 1, let key = pairs[0].key.scalar else {
            diagnostics.error("a governance rule is a mapping with one key naming the rule (\(names.joined(separator: ", ")))",
                              at: node.location)
            return nil
        }
        guard let type = rules.first(where: { $0.name == key }) else {
            diagnostics.error("unknown governance rule '\(key)'\(Suggestion.hint(for: key, in: names))",
                              at: pairs[0].key.location)
            return nil
        }
        return type.decode(pairs[0].value, diagnostics: &diagnostics)
    }
}
