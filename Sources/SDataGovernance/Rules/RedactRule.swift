public import SDataCore

/// `redact: { fields: [note], detect: [phone, rrn, email], patterns: [{ pattern: "…", replacement: "[ID]" }] }`
/// replaces personal data inside text with placeholders. Built-in detectors run in the listed order, each on the result
/// of the previous one, then user patterns (regular expressions) in order.
public struct RedactRule: GovernanceRule {
    public static let name = "redact"
    public static let summary = "Replaces phone numbers, resident numbers, e-mails and user patterns inside text."

    public struct Pattern: Sendable {
        public let pattern: String
        public let replacement: String
    }

    public let fields: [String]
    public let detectors: [String]
    public let patterns: [Pattern]

    public init(fields: [String], detectors: [String], patterns: [Pattern] = []) {
        self.fields = fields
        self.detectors = detectors
        self.patterns = patterns
    }

    public static func decode(_ node: ConfigNode, diagnostics: inout Diagnostics) -> RedactRule? {
        guard let options = RuleOptions(rule: name, node: node, allowed: ["field", "fields", "detect", "patterns"],
                                        diagnostics: &diagnostics) else { return nil }
        let fields = options.fields(diagnostics: &diagnostics)
        var detectors: [String] = []
        var valid = true
        if let detect = options["detect"] {
            guard let names = detect.stringList else {
                diagnostics.error("'detect' of rule 'redact' must list detectors: \(BuiltinDetectors.names.joined(separator: ", "))",
                                  at: detect.location)
                return nil
            }
            for (offset, name) in names.enumerated() where BuiltinDetectors.named(name) == nil {
                let location = detect.sequence?[offset].location ?? detect.location
                diagnostics.error("unknown detector '\(name)'\(Suggestion.hint(for: name, in: BuiltinDetectors.names))"
                                  + " (known: \(BuiltinDetectors.names.joined(separator: ", ")))", at: location)
                valid = false
            }
            detectors = names
        }
        var patterns: [Pattern] = []
        if let list = options["patterns"] {
            for item in list.sequence ?? [list] {
                guard let entry = RuleOptions(rule: "redact.patterns", node: item, allowed: ["pattern", "replacement"],
                                              diagnostics: &diagnostics),
                      let patternNode = entry.require("pattern", diagnostics: &diagnostics),
                      let pattern = patternNode.scalar else { valid = false; continue }
                do {
                    _ = try Regex(pattern)
                } catch {
                    diagnostics.error("'pattern' of rule 'redact' is not a valid regular expression", at: patternNode.location)
                    valid = false
                }
                patterns.append(Pattern(pattern: pattern, replacement: entry["replacement"]?.scalar ?? "[REDACTED]"))
            }
        }
        if detectors.isEmpty && patterns.isEmpty {
            diagnostics.error("rule 'redact' needs 'detect' or 'patterns'", at: node.location)
            return nil
        }
        guard valid, let fields else { return nil }
        return RedactRule(fields: fields, detectors: detectors, patterns: patterns)
    }

    public var referencedFields: [String] { fields }

    public func bind(to input: Schema) throws(GovernanceError) -> RuleStep {
        var positions: [Int] = []
        for field in fields { positions.append(try input.require(field, for: Self.name)) }
        let compiled: [(Regex<AnyRegexOutput>, String)]
        do {
            compiled = try patterns.map { (try Regex($0.pattern), $0.replacement) }
        } catch {
            throw GovernanceError("rule 'redact' has an invalid pattern")
        }
        return .record(RedactStep(input: input, positions: positions,
                                  detectors: detectors.compactMap(BuiltinDetectors.named), patterns: compiled))
    }
}

final class RedactStep: RecordStep {
    let outputSchema: Schema
    var stats = RuleStats()
    private let positions: [Int]
    private let detectors: [any Detector]
    private let patterns: [(Regex<AnyRegexOutput>, String)]

    init(input: Schema, positions: [Int], detectors: [any Detector], patterns: [(Regex<AnyRegexOutput>, String)]) {
        var schema = input
        for position in positions { schema.setType(.string, at: position) }
        outputSchema = schema
        self.positions = positions
        self.detectors = detectors
        self.patterns = patterns
    }

    func apply(_ record: inout Record) throws(GovernanceError) -> Bool {
        for position in positions where !record[position].isNull {
            let original = record[position].text
            var text = original
            for detector in detectors { text = detector.redact(text).0 }
            for (regex, replacement) in patterns { text = text.replacing(regex, with: replacement) }
            if text != original {
                record[position] = .string(text)
                stats.valuesChanged += 1
            } else if record[position].type != .string {
                record[position] = .string(text)
            }
        }
        return true
    }
}
