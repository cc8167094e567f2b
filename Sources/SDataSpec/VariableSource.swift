#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import SDataCore

/// Where `${VAR}` and `${secret:NAME}` get their values.
public protocol VariableSource: Sendable {
    func variable(named name: String) -> String?
    func secret(named name: String) -> String?
    /// Scrubs the secrets handed out so far from a message.
    func redact(_ text: String) -> String
    /// When true, a missing secret is a warning and reads as a placeholder.
    var secretsOptional: Bool { get }
}

extension VariableSource {
    public var secretsOptional: Bool { false }
}

/// The process environment plus an optional secrets file.
///
/// `${secret:NAME}` reads `SDATA_SECRET_NAME` from the environment, else `NAME=value` from the secrets file. The file
/// must not be readable by group or others (mode 0600), like an SSH key. Every secret handed out is registered with the
/// redactor so that it can be scrubbed from anything S-Data writes.
public struct EnvironmentVariables: VariableSource {
    public let environment: [String: String]
    public let secrets: [String: String]
    public let redactor: SecretRedactor
    /// Missing secrets are warnings and read as a placeholder (`sdata validate --secrets-optional`): specs can be
    /// checked where the keys are not available, such as a spec repository's CI.
    public var secretsOptional = false

    public init(environment: [String: String], secrets: [String: String] = [:], redactor: SecretRedactor) {
        self.environment = environment
        self.secrets = secrets
        self.redactor = redactor
    }

    public func variable(named name: String) -> String? { environment[name] }

    public func redact(_ text: String) -> String { redactor.redact(text) }

    public func secret(named name: String) -> String? {
        guard let value = environment["SDATA_SECRET_\(name)"] ?? secrets[name] else { return nil }
        redactor.register(name: name, value: value)
        return value
    }

    /// Reads a secrets file of `NAME=value` lines (`#` starts a comment).
    public static func readSecretsFile(_ path: String) throws(DiagnosticsError) -> [String: String] {
        var info = stat()
        guard stat(path, &info) == 0 else { return [:] }
        if info.st_mode & 0o077 != 0 {
            throw DiagnosticsError([.error("secrets file '\(path)' is readable by others; run 'chmod 600 \(path)'",
                                           at: nil)])
        }
        guard let file = fopen(path, "r") else {
            throw DiagnosticsError([.error("cannot read secrets file '\(path)'", at: nil)])
        }
        defer { fclose(file) }
        var secrets: [String: String] = [:]
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        var number = 0
        while getline(&line, &capacity, file) > 0 {
            number += 1
            let text = String(cString: line!).trimmingCharacters(in: " \t\r\n")
            if text.isEmpty || text.hasPrefix("#") { continue }
            guard let equals = text.firstIndex(of: "=") else {
                throw DiagnosticsError([.error("expected NAME=value", at: SourceLocation(file: path, line: number, column: 1))])
            }
            secrets[String(text[..<equals]).trimmingCharacters(in: " \t")] = String(text[text.index(after: equals)...])
        }
        free(line)
        return secrets
    }
}

extension String {
    /// Drops leading and trailing characters found in `set` (`\r\n` counts as a line break too).
    func trimmingCharacters(in set: String) -> String {
        let members = Set(set).union(set.contains("\n") ? ["\r\n"] : [])
        var text = Substring(self)
        while let first = text.first, members.contains(first) { text.removeFirst() }
        while let last = text.last, members.contains(last) { text.removeLast() }
        return String(text)
    }
}
