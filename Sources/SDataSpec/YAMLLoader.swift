import SDataCore
import Yams

/// Turns YAML text into a located ``ConfigNode`` tree, resolving `${VAR}` and `${secret:NAME}` in scalars.
///
/// Every problem becomes a diagnostic with the file, line and column it concerns; loading goes on after an error so
/// that one run reports them all.
struct YAMLLoader {
    let file: String
    let variables: any VariableSource
    var diagnostics = Diagnostics()

    init(file: String, variables: any VariableSource) {
        self.file = file
        self.variables = variables
    }

    mutating func load(_ text: String) -> ConfigNode? {
        let root: Node?
        do {
            // The basic resolver: tags are never read here, and the default one compiles a dozen `NSRegularExpression`s
            // (ICU, megabytes of resident memory) on every load.
            root = try Yams.compose(yaml: text, .basic)
        } catch let error as YamlError {
            report(error)
            return nil
        } catch {
            diagnostics.error("cannot read YAML", at: SourceLocation(file: file, line: 1, column: 1))
            return nil
        }
        guard let root else {
            diagnostics.error("the spec is empty", at: SourceLocation(file: file, line: 1, column: 1))
            return nil
        }
        return convert(root)
    }

    private func location(_ mark: Mark?) -> SourceLocation? {
        mark.map { SourceLocation(file: file, line: $0.line, column: $0.column) }
    }

    private mutating func report(_ error: YamlError) {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let detail = context.map { "\(problem) \($0.text)" } ?? problem
            diagnostics.error("invalid YAML: \(detail)", at: location(mark))
        case .duplicatedKeysInMapping(let duplicates, let context):
            diagnostics.error("key '\(duplicates.joined(separator: "', '"))' appears twice in one mapping",
                              at: location(context.mark))
        case .reader(let problem, _, _, _):
            diagnostics.error("cannot read the file as YAML: \(problem)", at: SourceLocation(file: file, line: 1, column: 1))
        default:
            diagnostics.error("invalid YAML", at: SourceLocation(file: file, line: 1, column: 1))
        }
    }

    private mutating func convert(_ node: Node) -> ConfigNode {
        let here = location(node.mark)
        switch node {
        case .scalar(let scalar):
            if scalar.style == .plain, node.null != nil { return ConfigNode(.null, at: here) }
            return interpolate(scalar.string, at: here, quoted: scalar.style != .plain)
        case .sequence(let sequence):
            return ConfigNode(.sequence(sequence.map { convert($0) }), at: here)
        case .mapping(let mapping):
            var pairs: [(key: ConfigNode, value: ConfigNode)] = []
            var seen: [String: SourceLocation?] = [:]
            for (key, value) in mapping {
                let keyNode = ConfigNode(.scalar(key.string ?? ""), at: location(key.mark))
                if key.scalar == nil {
                    diagnostics.error("mapping keys must be plain names", at: keyNode.location)
                    continue
                }
                if let name = key.string, seen[name] != nil {
                    diagnostics.error("key '\(name)' appears twice in one mapping", at: keyNode.location)
                    continue
                }
                seen[key.string ?? ""] = keyNode.location
                pairs.append((keyNode, convert(value)))
            }
            return ConfigNode(.mapping(pairs), at: here)
        case .alias:
            diagnostics.error("YAML aliases are not supported in specs; repeat the value", at: here)
            return ConfigNode(.null, at: here)
        }
    }

    /// Replaces `${VAR}` and `${secret:NAME}`; `$${` writes a literal `${`.
    private mutating func interpolate(_ text: String, at location: SourceLocation?, quoted: Bool) -> ConfigNode {
        guard text.contains("${") else { return ConfigNode(.scalar(text), at: location) }
        var result = ""
        var isSecret = false
        var rest = Substring(text)
        var consumed = 0
        while let start = rest.firstRange(of: "${") {
            if start.lowerBound > rest.startIndex, rest[rest.index(before: start.lowerBound)] == "$" {
                result += rest[..<rest.index(before: start.lowerBound)] + "${"
                consumed += rest[..<start.upperBound].count
                rest = rest[start.upperBound...]
                continue
            }
            result += rest[..<start.lowerBound]
            let column = (location?.column ?? 1) + consumed + rest[..<start.lowerBound].count + (quoted ? 1 : 0)
            let here = location.map { SourceLocation(file: $0.file, line: $0.line, column: column) }
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                diagnostics.error("unterminated '${' in a value", at: here)
                return ConfigNode(.scalar(text), at: location, isSecret: isSecret)
            }
            let reference = String(rest[start.upperBound..<end])
            if reference.hasPrefix("secret:") {
                let name = String(reference.dropFirst("secret:".count))
                if let value = variables.secret(named: name) {
                    result += value
                    isSecret = true
                } else if variables.secretsOptional {
                    diagnostics.warning("secret '\(name)' is not set; checked with a placeholder", at: here)
                    result += "placeholder-secret-" + name
                    isSecret = true
                } else {
                    diagnostics.error("secret '\(name)' is not set (set SDATA_SECRET_\(name) or add it to the secrets file)",
                                      at: here)
                }
            } else if reference.isEmpty || !reference.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
                diagnostics.error("'${\(reference)}' is not a variable reference; write ${NAME} or ${secret:NAME}", at: here)
            } else if let value = variables.variable(named: reference) {
                result += value
            } else {
                diagnostics.error("environment variable '\(reference)' is not set", at: here)
            }
            consumed += rest[..<rest.index(after: end)].count
            rest = rest[rest.index(after: end)...]
        }
        result += rest
        return ConfigNode(.scalar(result), at: location, isSecret: isSecret)
    }
}
