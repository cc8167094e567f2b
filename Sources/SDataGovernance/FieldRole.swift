import SDataCore

/// What a published field is, for privacy purposes. A `sensitive` pipeline must give every output field a role
/// (deny by default): a field nobody classified — a column that newly appeared in the source, say — stops the run.
public enum FieldRole: String, Sendable, CaseIterable, Codable {
    /// Identifies a person directly (a phone, a card number): must be published only as a pseudonym.
    case identifier
    /// Identifies in combination (age, sex, district, date): must be a k-anonymity quasi-identifier.
    case quasiIdentifier = "quasi_identifier"
    /// What must not be linked to a person (a diagnosis).
    case sensitive
    /// Free text: must go through a `redact` rule.
    case freeText = "free_text"
    case geo
    case time
    case `public`
}

/// Checks a pipeline's output fields against their declared roles.
enum RoleCheck {
    /// The problems with `roles` for a pipeline whose rules are `rules` and whose output is `output`.
    static func problems(roles: [String: FieldRole], sensitive: Bool, rules: [any GovernanceRule],
                         output: Schema) -> [String] {
        var problems: [String] = []
        for name in roles.keys.sorted() where output.index(of: name) == nil {
            problems.append("governance.roles names '\(name)', which is not an output field"
                            + Suggestion.hint(for: name, in: output.names))
        }
        guard sensitive else { return problems }
        let pseudonymized = FieldTrace.outputNames(rules) { $0 is PseudonymizeRule }
        let redacted = FieldTrace.outputNames(rules) { $0 is RedactRule }
        let quasiIdentifiers = FieldTrace.outputNames(rules) { $0 is KAnonymityRule }
        for field in output.fields {
            guard let role = roles[field.name] else {
                problems.append("output field '\(field.name)' has no role in governance.roles; a sensitive pipeline "
                                + "publishes only classified fields (is it a new column in the source?)")
                continue
            }
            switch role {
            case .identifier where !pseudonymized.contains(field.name):
                problems.append("identifier '\(field.name)' would be published as is: pseudonymize or drop it")
            case .freeText where !redacted.contains(field.name):
                problems.append("free-text field '\(field.name)' has no redact rule")
            case .quasiIdentifier where !quasiIdentifiers.contains(field.name):
                problems.append("quasi-identifier '\(field.name)' is not in any k_anonymity rule")
            default:
                break
            }
        }
        return problems
    }
}

/// Follows fields through a rule list: which output fields come from fields a kind of rule touched.
enum FieldTrace {
    static func outputNames(_ rules: [any GovernanceRule], touchedBy matches: (any GovernanceRule) -> Bool) -> Set<String> {
        var names = Set<String>()
        for rule in rules {
            if matches(rule) { names.formUnion(rule.referencedFields) }
            switch rule {
            case let rule as RenameRule:
                var renamed = names
                for (from, to) in rule.mapping where names.contains(from) {
                    renamed.remove(from)
                    renamed.insert(to)
                }
                names = renamed
            case let rule as DropRule: names.subtract(rule.fields)
            case let rule as SelectRule: names.formIntersection(rule.fields)
            default: break
            }
        }
        return names
    }
}
