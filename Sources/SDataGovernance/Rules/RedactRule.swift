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

    public enum Action: String, Sendable, CaseIterable { case redact, dropRow = "drop_row", fail }

    public let fields: [String]
    public let detectors: [String]
    public let patterns: [Pattern]
    public let action: Action
    public let normalize: Bool

    public init(fields: [String], detectors: [String], patterns: [Pattern] = [], action: Action = .redact,
                normalize: Bool = true) {
        self.fields = fields
        self.detectors = detectors
        self.patterns = patterns
        self.action = action
        self.normalize = normalize
    }

    public static func decode(_ node: ConfigNode, diagnostics: inout Diagnostics) -> RedactRule? {
        guard let options = RuleOptions(rule: name, node: node, allowed: ["field", "fields", "detect", "patterns", "on_match", "normalize"],
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
        var action = Action.redact
        if let node = options["on_match"] {
            let names = Action.allCases.map(\.rawValue)
            if let text = node.scalar, let known = Action(rawValue: text) { action = known } else {
                diagnostics.error("'on_match' must be one of \(names.joined(separator: ", "))"
                                  + Suggestion.hint(for: node.scalar ?? "", in: names), at: node.location)
                valid = false
            }
        }
        var normalize = true
        if let node = options["normalize"] {
            if let flag = node.bool { normalize = flag } else {
                diagnostics.error("'normalize' must be true or false", at: node.location)
                valid = false
            }
        }
        if detectors.isEmpty && patterns.isEmpty {
            diagnostics.error("rule 'redact' needs 'detect' or 'patterns'", at: node.location)
            return nil
        }
        guard valid, let fields else { return nil }
        return RedactRule(fields: fields, detectors: detectors, patterns: patterns, action: action, normalize: normalize)
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
        let detectors: [any Detector] = detectors.compactMap { name in
            name == "rrn" && normalize ? ResidentNumberDetector(undashed: true) : BuiltinDetectors.named(name)
        }
        return .record(RedactStep(input: input, positions: positions, detectors: detectors, patterns: compiled,
                                  action: action, normalize: normalize))
    }
}

final class RedactStep: RecordStep {
    var rewrittenPositions: Set<Int>? { Set(positions) }
    var mayDropRecords: Bool { action != .redact }

    let outputSchema: Schema
    var stats = RuleStats()
    private let positions: [Int]
    private let detectors: [any Detector]
    private let patterns: [(Regex<AnyRegexOutput>, String)]
    private let action: RedactRule.Action
    private let normalize: Bool
    private var row = 0

    init(input: Schema, positions: [Int], detectors: [any Detector], patterns: [(Regex<AnyRegexOutput>, String)],
         action: RedactRule.Action, normalize: Bool) {
        self.action = action
        self.normalize = normalize
        var schema = input
        for position in positions { schema.setType(.string, at: position) }
        outputSchema = schema
        self.positions = positions
        self.detectors = detectors
        self.patterns = patterns
    }

    func apply(_ record: inout Record) throws(GovernanceError) -> Bool {
        row += 1
        for position in positions where !record[position].isNull {
            let original = record[position].text
            let candidate = normalize && TextNormalizer.needsNormalizing(original)
                ? TextNormalizer.normalize(original) : original
            var text = candidate
            for detector in detectors { text = detector.redact(text).0 }
            for (regex, replacement) in patterns { text = text.replacing(regex, with: replacement) }
            guard text != candidate else {
                if record[position].type != .string { record[position] = .string(original) }
                continue
            }
            switch action {
            case .redact:
                record[position] = .string(text)
                stats.valuesChanged += 1
            case .dropRow:
                return false
            case .fail:
                let name = outputSchema.fields[position].name
                throw GovernanceError("rule 'redact' found personal data in field '\(name)' of record \(row) "
                                      + "(on_match: fail)")
            }
        }
        return true
    }
}
