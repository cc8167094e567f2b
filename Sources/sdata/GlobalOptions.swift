import ArgumentParser
import Foundation
import Logging
import SDataCore
import SDataPluginAPI
import SDataSpec
import SDataCatalog
import SDataBuiltins

/// Options every command shares.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The catalog root (default: $SDATA_CATALOG, else ./catalog).", valueName: "dir"))
    var catalog: String?

    @Option(name: .long, help: ArgumentHelp("A secrets file of NAME=value lines, mode 0600 (default: ./secrets.env).",
                                            valueName: "file"))
    var secrets: String?

    @Flag(name: .long, help: "Print machine-readable JSON instead of text.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Log level: debug, info, warning, error.", valueName: "level"))
    var logLevel: String?

    @Option(name: .long, help: ArgumentHelp("Log line format: logfmt or json.", valueName: "format"))
    var logFormat: String = "logfmt"

    var environment: [String: String] { ProcessInfo.processInfo.environment }

    var catalogRoot: String { catalog ?? environment["SDATA_CATALOG"] ?? "catalog" }

    func validate() throws {
        if let logLevel, Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("--log-level must be one of debug, info, warning, error")
        }
        if logFormat != "logfmt" && logFormat != "json" {
            throw ValidationError("--log-format must be logfmt or json")
        }
    }

    /// Sets up logging once, at the edge: logfmt lines on standard error, secrets scrubbed.
    func bootstrapLogging(redactor: SecretRedactor) {
        let level = logLevel.flatMap(Logger.Level.init(rawValue:)) ?? (Terminal.isInteractive ? .warning : .info)
        LoggingSystem.bootstrap { label in
            var handler = LogfmtHandler(label: label, redactor: redactor, json: logFormat == "json")
            handler.logLevel = level
            return handler
        }
    }

    /// Variables and secrets for spec interpolation.
    func variables(redactor: SecretRedactor) throws -> EnvironmentVariables {
        let path = secrets ?? environment["SDATA_SECRETS_FILE"] ?? "secrets.env"
        let fileSecrets: [String: String]
        do {
            fileSecrets = try EnvironmentVariables.readSecretsFile(path)
        } catch {
            Output.error(error.description)
            throw ExitCode(1)
        }
        return EnvironmentVariables(environment: environment, secrets: fileSecrets, redactor: redactor)
    }

    func loader(redactor: SecretRedactor, secretsOptional: Bool = false) throws -> SpecLoader {
        var variables = try variables(redactor: redactor)
        variables.secretsOptional = secretsOptional
        return SpecLoader(registry: Builtins.registry, variables: variables)
    }

    func openCatalog() throws -> Catalog {
        do {
            return try Catalog.open(root: catalogRoot)
        } catch {
            Output.error("cannot open the catalog at '\(catalogRoot)': \(error)")
            throw ExitCode(1)
        }
    }
}

/// The specs named on the command line, or every `pipelines/*.yaml`.
enum SpecFiles {
    static func resolve(_ given: [String], all: Bool = true) throws -> [String] {
        if !given.isEmpty {
            // A folder stands for the specs directly in it.
            return try given.flatMap { path -> [String] in
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                    return [path]
                }
                return try specs(in: path)
            }
        }
        guard all else { return [] }
        return try specs(in: "pipelines")
    }

    /// Loads the specs named (or every `pipelines/*.yaml`), printing warnings and errors; throws exit code 1 when
    /// any has an error, saying that nothing is `action` (running, scheduling).
    static func loadValid(_ given: [String], global: GlobalOptions, redactor: SecretRedactor,
                          action: String) throws -> [PipelineSpec] {
        let loader = try global.loader(redactor: redactor)
        var loaded: [PipelineSpec] = []
        var invalid = false
        for file in try resolve(given) {
            switch loader.load(file: file) {
            case .success(let spec):
                for warning in spec.warnings { FileHandle.standardError.write(Data((warning.description + "\n").utf8)) }
                loaded.append(spec)
            case .failure(let error):
                for diagnostic in error.diagnostics {
                    FileHandle.standardError.write(Data((redactor.redact(diagnostic.description) + "\n").utf8))
                }
                invalid = invalid || error.diagnostics.contains { $0.severity == .error }
            }
        }
        if invalid {
            Output.error("not \(action): fix the spec errors above ('sdata validate' checks specs)")
            throw ExitCode(1)
        }
        return loaded
    }

    private static func specs(in directory: String) throws -> [String] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            Output.error("there is no '\(directory)' folder here")
            throw ExitCode(1)
        }
        let folder = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        let files = entries.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map { "\(folder)/\($0)" }
        if files.isEmpty {
            Output.error("'\(directory)' holds no .yaml file")
            throw ExitCode(1)
        }
        return files
    }
}
