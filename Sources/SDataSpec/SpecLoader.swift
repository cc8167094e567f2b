import Foundation
import Crypto
public import SDataCore
public import SDataPluginAPI
import SDataGovernance

/// Loads and checks pipeline specs: structure, types, plugin options, rules, field references, cron, secrets.
///
/// Every problem is collected as a located diagnostic; ``load(file:)`` fails only after the whole spec was read.
public struct SpecLoader: Sendable {
    public let registry: PluginRegistry
    public let variables: any VariableSource

    public init(registry: PluginRegistry, variables: any VariableSource) {
        self.registry = registry
        self.variables = variables
    }

    static let topLevelKeys = ["id", "title", "description", "owner", "schedule", "timezone", "retries", "retry_delay",
                               "timeout", "max_staleness", "catchup", "source", "schema",
                               "governance", "publish"]

    /// Loads the spec at `file`.
    public func load(file: String) -> Result<PipelineSpec, DiagnosticsError> {
        guard let data = FileManager.default.contents(atPath: file) else {
            return .failure(DiagnosticsError([.error("cannot read spec file", at: SourceLocation(file: file, line: 1, column: 1))]))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            return .failure(DiagnosticsError([.error("the spec is not UTF-8 text", at: SourceLocation(file: file, line: 1, column: 1))]))
        }
        return load(text: text, file: file)
    }

    /// Loads spec text; `file` names it in diagnostics and anchors relative paths.
    public func load(text: String, file: String) -> Result<PipelineSpec, DiagnosticsError> {
        var yaml = YAMLLoader(file: file, variables: variables)
        let root = yaml.load(text)
        var diagnostics = yaml.diagnostics
        guard let root else { return .failure(DiagnosticsError(diagnostics.sorted.map { variables.scrub($0) })) }
        var decoder = SpecDecoder(file: file, registry: registry, diagnostics: diagnostics)
        let spec = decoder.decode(root, hash: Hex.string(SHA256.hash(data: Array(text.utf8))))
        diagnostics = decoder.diagnostics
        if diagnostics.hasErrors || spec == nil {
            // Messages are written not to quote values, but a value may come from a secret: scrub them all.
            return .failure(DiagnosticsError(diagnostics.sorted.map { variables.scrub($0) }))
        }
        var loaded = spec!
        loaded.warnings = diagnostics.sorted.filter { $0.severity == .warning }.map { variables.scrub($0) }
        return .success(loaded)
    }
}

/// The walk over a spec's tree.
struct SpecDecoder {
    let file: String
    let registry: PluginRegistry
    var diagnostics: Diagnostics

    init(file: String, registry: PluginRegistry, diagnostics: Diagnostics) {
        self.file = file
        self.registry = registry
        self.diagnostics = diagnostics
    }

    /// Reports keys of `node` that are not in `allowed`, with a suggestion; false when `node` is not a mapping.
    mutating func checkKeys(_ node: ConfigNode, allowed: [String], context: String) -> Bool {
        guard let pairs = node.mapping else {
            diagnostics.error("\(context) must be a mapping, found \(node.kindName)", at: node.location)
            return false
        }
        for (key, _) in pairs {
            guard let name = key.scalar, !allowed.contains(name) else { continue }
            let place = context == "the spec" ? "" : " in \(context)"
            diagnostics.error("unknown key '\(name)'\(place)\(Suggestion.hint(for: name, in: allowed))", at: key.location)
        }
        return true
    }

    mutating func string(_ node: ConfigNode?, key: String, required: Bool = false, at parent: ConfigNode) -> String? {
        guard let node else {
            if required { diagnostics.error("missing required key '\(key)'", at: parent.location) }
            return nil
        }
        guard let text = node.scalar else {
            diagnostics.error("'\(key)' must be a string, found \(node.kindName)", at: node.location)
            return nil
        }
        return text
    }

    mutating func decode(_ root: ConfigNode, hash: String) -> PipelineSpec? {
        guard checkKeys(root, allowed: SpecLoader.topLevelKeys, context: "the spec") else { return nil }
        let id = string(root["id"], key: "id", required: true, at: root)
        if let id, !SpecDecoder.isIdentifier(id) {
            diagnostics.error("'id' must be lowercase letters, digits and dashes (like 'seoul-covid-daily'), found '\(id)'",
                              at: root["id"]?.location)
        }
        let title = string(root["title"], key: "title", at: root)
        let description = string(root["description"], key: "description", at: root)
        let owner = string(root["owner"], key: "owner", at: root)
        var schedule: CronSchedule?
        if let text = string(root["schedule"], key: "schedule", at: root) {
            do { schedule = try CronSchedule(text) } catch {
                diagnostics.error("invalid schedule: \(error.description)", at: root["schedule"]?.location)
            }
        }
        let timezone = string(root["timezone"], key: "timezone", at: root)
        if let timezone, TimeZone(identifier: timezone) == nil {
            diagnostics.error("unknown time zone '\(timezone)' (use an IANA name such as Asia/Seoul)",
                              at: root["timezone"]?.location)
        }
        if timezone != nil, root["schedule"] == nil {
            diagnostics.error("'timezone' is set but there is no 'schedule'", at: root["timezone"]?.location)
        }
        let operations = decodeOperations(root)
        let source = decodeSource(root["source"], parent: root)
        let schema = root["schema"].flatMap { decodeSchema($0) }
        let governance = decodeGovernance(root["governance"])
        let publish = decodePublish(root["publish"], id: id)
        if let governance, let schema, !schema.allowsAdditional {
            checkRuleReferences(governance, against: schema, at: root["governance"])
        }
        if let schema, let cursor = source?.cursor, !schema.allowsAdditional,
           !schema.fields.contains(where: { $0.name == cursor }) {
            diagnostics.error("incremental cursor '\(cursor)' is not a declared field", at: root["source"]?["incremental"]?.location)
        }
        guard let id, let source, let governance, let publish, !diagnostics.hasErrors else { return nil }
        var spec = PipelineSpec(file: file, specHash: hash, id: id, title: title ?? id, description: description ?? "",
                            owner: owner, schedule: schedule, timezone: timezone, source: source, schema: schema,
                            governance: governance, publish: publish)
        spec.operations = operations
        return spec
    }

    /// `retries`, `retry_delay`, `timeout`, `max_staleness`.
    mutating func decodeOperations(_ root: ConfigNode) -> OperationsSpec {
        var operations = OperationsSpec()
        if let node = root["retries"] {
            if let count = node.int, (0...10).contains(count) { operations.retries = count } else {
                diagnostics.error("'retries' must be a whole number from 0 to 10", at: node.location)
            }
        }
        if let delay = duration(root, "retry_delay") { operations.retryDelay = delay }
        operations.timeout = duration(root, "timeout")
        operations.maxStaleness = duration(root, "max_staleness")
        if let node = root["catchup"] {
            if let text = node.scalar, let policy = OperationsSpec.CatchUp(rawValue: text) {
                operations.catchUp = policy
            } else {
                diagnostics.error("'catchup' must be none or latest", at: node.location)
            }
            if root["schedule"] == nil { diagnostics.error("'catchup' needs a 'schedule'", at: node.location) }
        }
        return operations
    }

    /// The duration under `key` in `node` in seconds (`30s`, `5m`, `2h`, `1d`); zero only when `allowZero`.
    mutating func duration(_ node: ConfigNode, _ key: String, allowZero: Bool = false) -> Int? {
        guard let value = node[key] else { return nil }
        if let seconds = value.scalar.flatMap(DurationText.seconds), seconds > 0 || (allowZero && seconds == 0) {
            return seconds
        }
        diagnostics.error("'\(key)' must be a duration such as 30s, 5m, 2h or 1d", at: value.location)
        return nil
    }

    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, (97...122).contains(first.value) || (48...57).contains(first.value),
              text.count <= 100 else { return false }
        return text.unicodeScalars.allSatisfy { (97...122).contains($0.value) || (48...57).contains($0.value) || $0 == "-" }
    }
}

extension VariableSource {
    func scrub(_ diagnostic: Diagnostic) -> Diagnostic {
        var scrubbed = diagnostic
        scrubbed.message = redact(diagnostic.message)
        return scrubbed
    }
}
