import SDataCore
import SDataPluginAPI
import SDataGovernance

extension SpecDecoder {
    mutating func decodeSource(_ node: ConfigNode?, parent: ConfigNode) -> SourceSpec? {
        guard let node else {
            diagnostics.error("missing required key 'source'", at: parent.location)
            return nil
        }
        guard checkKeys(node, allowed: ["plugin", "with", "incremental", "http"], context: "'source'") else { return nil }
        guard let name = string(node["plugin"], key: "plugin", required: true, at: node) else { return nil }
        guard let plugin = registry.plugin(named: name) else {
            diagnostics.error("unknown source plugin '\(name)'\(Suggestion.hint(for: name, in: registry.names))"
                              + " (available: \(registry.names.joined(separator: ", ")))", at: node["plugin"]?.location)
            return nil
        }
        var cursor: String?
        if let incremental = node["incremental"], checkKeys(incremental, allowed: ["cursor"], context: "'incremental'") {
            cursor = string(incremental["cursor"], key: "cursor", required: true, at: incremental)
        }
        let withNode = node["with"]
        let options = PluginOptions.validate(withNode, against: plugin.descriptor, diagnostics: &diagnostics)
        if !diagnostics.hasErrors {
            do {
                _ = try plugin.init(options: options)
            } catch let error as OptionError {
                diagnostics.error("plugin '\(name)': \(error.description)", at: options.location(of: error.option))
            } catch {
                diagnostics.error("plugin '\(name)' rejected its options", at: withNode?.location ?? node.location)
            }
        }
        var http = HTTPSettings()
        if let httpNode = node["http"] { http = decodeHTTP(httpNode) }
        return SourceSpec(plugin: plugin, options: options, location: node.location, cursor: cursor, http: http)
    }

    /// `source.http`: how network plugins time out, retry and pace their requests.
    mutating func decodeHTTP(_ node: ConfigNode) -> HTTPSettings {
        var settings = HTTPSettings()
        let keys = ["timeout", "retries", "backoff", "max_backoff", "max_retry_after", "rate_limit"]
        guard checkKeys(node, allowed: keys, context: "'source.http'") else { return settings }
        if let seconds = duration(node, "timeout") { settings.timeoutSeconds = Double(seconds) }
        if let value = node["retries"] {
            if let count = value.int, (0...20).contains(count) { settings.retries = count } else {
                diagnostics.error("'retries' must be a whole number from 0 to 20", at: value.location)
            }
        }
        if let seconds = duration(node, "backoff", allowZero: true) { settings.backoffSeconds = Double(seconds) }
        if let seconds = duration(node, "max_backoff", allowZero: true) { settings.maxBackoffSeconds = Double(seconds) }
        if let seconds = duration(node, "max_retry_after", allowZero: true) {
            settings.maxRetryAfterSeconds = Double(seconds)
        }
        if let limit = node["rate_limit"], checkKeys(limit, allowed: ["requests", "per"], context: "'rate_limit'") {
            let requests = limit["requests"]?.int
            if requests == nil || requests! < 1 {
                diagnostics.error("'rate_limit.requests' must be a whole number of at least 1", at: limit["requests"]?.location ?? limit.location)
            }
            let window = limit["per"] == nil ? nil : duration(limit, "per")
            if limit["per"] == nil {
                diagnostics.error("'rate_limit' needs 'per', the window (like 10s)", at: limit.location)
            }
            if let requests, requests >= 1, let window {
                settings.rateLimit = .init(requests: requests, windowSeconds: Double(window))
            }
        }
        return settings
    }

    mutating func decodeSchema(_ node: ConfigNode) -> SchemaSpec? {
        guard checkKeys(node, allowed: ["fields", "additional_fields", "primary_key"], context: "'schema'") else { return nil }
        var fields: [SchemaSpec.FieldSpec] = []
        var seen = Set<String>()
        for item in node["fields"]?.sequence ?? [] {
            guard checkKeys(item, allowed: ["name", "type", "format", "description", "minimum", "maximum", "required"],
                            context: "a schema field") else { continue }
            guard let name = string(item["name"], key: "name", required: true, at: item) else { continue }
            if !seen.insert(name).inserted {
                diagnostics.error("field '\(name)' is declared twice", at: item["name"]?.location)
            }
            var type = FieldType.string
            if let typeName = string(item["type"], key: "type", at: item) {
                if let known = FieldType(rawValue: typeName) {
                    type = known
                } else {
                    let names = FieldType.allCases.map(\.rawValue)
                    diagnostics.error("unknown field type '\(typeName)'\(Suggestion.hint(for: typeName, in: names))"
                                      + " (use \(names.joined(separator: ", ")))", at: item["type"]?.location)
                }
            }
            var format: DatePattern?
            if let pattern = string(item["format"], key: "format", at: item) {
                if type != .date && type != .datetime {
                    diagnostics.error("'format' applies to date and datetime fields only", at: item["format"]?.location)
                }
                do { format = try DatePattern(pattern) } catch {
                    diagnostics.error(error.description, at: item["format"]?.location)
                }
            }
            let minimum = number(item["minimum"], key: "minimum")
            let maximum = number(item["maximum"], key: "maximum")
            if (minimum != nil || maximum != nil) && type != .integer && type != .number {
                diagnostics.error("'minimum' and 'maximum' apply to integer and number fields only", at: item.location)
            }
            var required = false
            if let flag = item["required"] {
                if let value = flag.bool { required = value } else {
                    diagnostics.error("'required' must be true or false", at: flag.location)
                }
            }
            fields.append(.init(name: name, type: type, format: format,
                                description: string(item["description"], key: "description", at: item),
                                minimum: minimum, maximum: maximum, required: required, location: item.location))
        }
        if let list = node["fields"], list.sequence == nil {
            diagnostics.error("'fields' must be a list of fields", at: list.location)
        }
        var allowsAdditional = true
        if let additional = node["additional_fields"] {
            switch additional.scalar {
            case "allow": allowsAdditional = true
            case "error": allowsAdditional = false
            default: diagnostics.error("'additional_fields' must be 'allow' or 'error'", at: additional.location)
            }
        }
        var primaryKey: [String] = []
        if let keyNode = node["primary_key"] {
            if let names = keyNode.stringList { primaryKey = names } else {
                diagnostics.error("'primary_key' must be a field name or a list of field names", at: keyNode.location)
            }
        }
        return SchemaSpec(fields: fields, allowsAdditional: allowsAdditional, primaryKey: primaryKey)
    }

    private mutating func number(_ node: ConfigNode?, key: String) -> Double? {
        guard let node else { return nil }
        guard let value = node.double else {
            diagnostics.error("'\(key)' must be a number", at: node.location)
            return nil
        }
        return value
    }

    mutating func decodeGovernance(_ node: ConfigNode?) -> GovernanceSpec? {
        guard let node else {
            return GovernanceSpec(classification: .public, rules: [], ruleLocations: [], piiGate: .warn, roles: [:],
                                  retention: RetentionPolicy())
        }
        guard checkKeys(node, allowed: ["classification", "rules", "pii_gate", "roles", "retention"],
                             context: "'governance'") else { return nil }
        var classification = GovernanceSpec.Classification.public
        if let name = string(node["classification"], key: "classification", at: node) {
            let names = GovernanceSpec.Classification.allCases.map(\.rawValue)
            if let known = GovernanceSpec.Classification(rawValue: name) { classification = known } else {
                diagnostics.error("unknown classification '\(name)'\(Suggestion.hint(for: name, in: names))"
                                  + " (use \(names.joined(separator: ", ")))", at: node["classification"]?.location)
            }
        }
        var rules: [any GovernanceRule] = []
        var locations: [SourceLocation?] = []
        if let list = node["rules"] {
            if let items = list.sequence {
                for item in items {
                    if let rule = RuleCatalog.decode(item, diagnostics: &diagnostics) {
                        rules.append(rule)
                        locations.append(item.mapping?.first?.key.location ?? item.location)
                    }
                }
            } else if !list.isNull {
                diagnostics.error("'rules' must be a list of rules", at: list.location)
            }
        }
        var gate: PIIGateMode = classification == .sensitive ? .block : .warn
        if let name = string(node["pii_gate"], key: "pii_gate", at: node) {
            let names = PIIGateMode.allCases.map(\.rawValue)
            if let mode = PIIGateMode(rawValue: name) { gate = mode } else {
                diagnostics.error("'pii_gate' must be one of \(names.joined(separator: ", "))"
                                  + Suggestion.hint(for: name, in: names), at: node["pii_gate"]?.location)
            }
        }
        if classification == .sensitive, gate == .off {
            diagnostics.error("a sensitive pipeline cannot turn the PII gate off (use 'block' or 'warn')",
                              at: node["pii_gate"]?.location)
        }
        if classification == .sensitive, !rules.contains(where: { $0 is KAnonymityRule || $0 is AggregateRule }) {
            diagnostics.warning("a sensitive pipeline without a 'k_anonymity' rule publishes rows that may be unique",
                                at: node.location)
        }
        var roles: [String: FieldRole] = [:]
        if let mapping = node["roles"] {
            let names = FieldRole.allCases.map(\.rawValue)
            if let pairs = mapping.mapping {
                for (key, value) in pairs {
                    guard let field = key.scalar else { continue }
                    if let text = value.scalar, let role = FieldRole(rawValue: text) {
                        roles[field] = role
                    } else {
                        diagnostics.error("unknown role '\(value.scalar ?? value.kindName)' for field '\(field)'"
                                          + Suggestion.hint(for: value.scalar ?? "", in: names)
                                          + " (roles: \(names.joined(separator: ", ")))", at: value.location)
                    }
                }
            } else {
                diagnostics.error("'roles' must map output field names to roles", at: mapping.location)
            }
        } else if classification == .sensitive {
            diagnostics.error("a sensitive pipeline must give every output field a role in 'roles' "
                              + "(identifier, quasi_identifier, sensitive, free_text, geo, time, public)", at: node.location)
        }
        return GovernanceSpec(classification: classification, rules: rules, ruleLocations: locations, piiGate: gate,
                              roles: roles, retention: decodeRetention(node["retention"]))
    }

    mutating func decodeRetention(_ node: ConfigNode?) -> RetentionPolicy {
        var policy = RetentionPolicy()
        guard let node, checkKeys(node, allowed: ["raw", "versions", "logs"], context: "'retention'") else { return policy }
        if let logs = node["logs"] {
            if let seconds = logs.scalar.flatMap(DurationText.seconds), seconds > 0 { policy.logSeconds = seconds } else {
                diagnostics.error("'logs' must be a period such as 90d", at: logs.location)
            }
        }
        if let raw = node["raw"] {
            if let seconds = raw.scalar.flatMap(DurationText.seconds) { policy.rawSeconds = seconds } else {
                diagnostics.error("'raw' must be a period such as 14d, 36h, 2w or 0d", at: raw.location)
            }
        }
        if let versions = node["versions"], checkKeys(versions, allowed: ["keep_last", "max_age"], context: "'versions'") {
            if let keep = versions["keep_last"] {
                if let count = keep.int, count >= 1 { policy.keepLast = count } else {
                    diagnostics.error("'keep_last' must be a whole number of at least 1", at: keep.location)
                }
            }
            if let age = versions["max_age"] {
                if let seconds = age.scalar.flatMap(DurationText.seconds), seconds > 0 {
                    policy.versionMaxSeconds = seconds
                } else {
                    diagnostics.error("'max_age' must be a period such as 365d", at: age.location)
                }
            }
        }
        return policy
    }

    mutating func decodePublish(_ node: ConfigNode?, id: String?) -> PublishSpec? {
        let allowed = ["dataset", "title", "description", "license", "keywords", "theme", "formats", "csv"]
        guard let node else {
            return PublishSpec(dataset: id ?? "", license: nil, keywords: [], theme: nil, formats: [.csv, .json],
                               csv: .init())
        }
        guard checkKeys(node, allowed: allowed, context: "'publish'") else { return nil }
        let dataset = string(node["dataset"], key: "dataset", at: node) ?? id ?? ""
        if node["dataset"] != nil, !SpecDecoder.isIdentifier(dataset) {
            diagnostics.error("'dataset' must be lowercase letters, digits and dashes", at: node["dataset"]?.location)
        }
        var keywords: [String] = []
        if let list = node["keywords"] {
            if let names = list.stringList { keywords = names } else {
                diagnostics.error("'keywords' must be a list of words", at: list.location)
            }
        }
        var formats: [PublishSpec.Format] = [.csv, .json]
        if let list = node["formats"] {
            let names = PublishSpec.Format.allCases.map(\.rawValue)
            if let given = list.stringList, !given.isEmpty {
                formats = []
                for (offset, name) in given.enumerated() {
                    if let format = PublishSpec.Format(rawValue: name) {
                        if !formats.contains(format) { formats.append(format) }
                    } else {
                        diagnostics.error("unknown format '\(name)'\(Suggestion.hint(for: name, in: names))"
                                          + " (available: \(names.joined(separator: ", ")))",
                                          at: list.sequence?[offset].location ?? list.location)
                    }
                }
            } else {
                diagnostics.error("'formats' must be a non-empty list (\(names.joined(separator: ", ")))", at: list.location)
            }
        }
        var dialect = PublishSpec.CSVDialect()
        if let csv = node["csv"], checkKeys(csv, allowed: ["delimiter", "line_terminator", "header", "bom"], context: "'csv'") {
            if let delimiter = csv["delimiter"] {
                let text = delimiter.scalar == "\\t" ? "\t" : delimiter.scalar ?? ""
                if text.utf8.count == 1, let byte = text.utf8.first, byte != UInt8(ascii: "\""), byte != 0x0A, byte != 0x0D {
                    dialect.delimiter = byte
                } else {
                    diagnostics.error("'delimiter' must be one ASCII character other than a quote or line break",
                                      at: delimiter.location)
                }
            }
            if let terminator = csv["line_terminator"] {
                switch terminator.scalar {
                case "lf": dialect.lineTerminator = "\n"
                case "crlf": dialect.lineTerminator = "\r\n"
                default: diagnostics.error("'line_terminator' must be 'lf' or 'crlf'", at: terminator.location)
                }
            }
            for (key, path) in [("header", \PublishSpec.CSVDialect.header), ("bom", \.byteOrderMark)] {
                guard let flag = csv[key] else { continue }
                if let value = flag.bool { dialect[keyPath: path] = value } else {
                    diagnostics.error("'\(key)' must be true or false", at: flag.location)
                }
            }
        }
        return PublishSpec(dataset: dataset, title: string(node["title"], key: "title", at: node),
                           description: string(node["description"], key: "description", at: node),
                           license: string(node["license"], key: "license", at: node), keywords: keywords,
                           theme: string(node["theme"], key: "theme", at: node), formats: formats, csv: dialect)
    }

    /// With a closed declared schema, binds the rules to it now so that a misspelt field or an unclassified output
    /// field is a located error.
    mutating func checkRuleReferences(_ governance: GovernanceSpec, against schema: SchemaSpec, at node: ConfigNode?) {
        var current = Schema(schema.fields.map { Field(name: $0.name, type: $0.type) })
        var bound = true
        for (rule, location) in zip(governance.rules, governance.ruleLocations) {
            do {
                if case .record(let step) = try rule.bind(to: current) { current = step.outputSchema }
            } catch {
                diagnostics.error(error.message, at: location)
                bound = false
            }
        }
        guard bound else { return }
        do {
            _ = try GovernancePlan(rules: governance.rules, input: Schema(schema.fields.map { Field(name: $0.name, type: $0.type) }),
                                   classification: governance.classification.rawValue, roles: governance.roles)
        } catch {
            diagnostics.error(error.message, at: node?["roles"]?.location ?? node?.location)
        }
    }
}
