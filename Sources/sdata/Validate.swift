import ArgumentParser
import Foundation
import SDataCore
import SDataSpec

struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check specs without fetching anything.",
        discussion: """
            Checks structure, types, plugin options, governance rules, field references (when the schema is closed), \
            cron schedules and that every ${VAR} and ${secret:NAME} is set. Errors are printed as \
            FILE:LINE:COL: error: MESSAGE. With no SPEC, checks every pipelines/*.yaml; a folder checks the specs \
            in it (`sdata validate pipelines/live`).
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("Spec files or folders (default: pipelines/*.yaml).", valueName: "spec"))
    var specs: [String] = []

    @Flag(help: "Treat unset secrets as warnings, checking with placeholders (for CI without the keys).")
    var secretsOptional = false

    struct Report: Encodable {
        var file: String
        var valid: Bool
        var diagnostics: [String]
    }

    func run() async throws {
        let redactor = SecretRedactor()
        global.bootstrapLogging(redactor: redactor)
        let loader = try global.loader(redactor: redactor, secretsOptional: secretsOptional)
        var reports: [Report] = []
        for file in try SpecFiles.resolve(specs) {
            switch loader.load(file: file) {
            case .success(let spec):
                reports.append(Report(file: file, valid: true, diagnostics: spec.warnings.map(\.description)))
            case .failure(let error):
                reports.append(Report(file: file, valid: !error.diagnostics.contains { $0.severity == .error },
                                      diagnostics: error.diagnostics.map { redactor.redact($0.description) }))
            }
        }
        let invalid = reports.filter { !$0.valid }.count
        if global.json {
            try Output.json(reports)
        } else {
            for report in reports {
                for diagnostic in report.diagnostics { FileHandle.standardError.write(Data((diagnostic + "\n").utf8)) }
            }
            let errors = reports.reduce(0) { $0 + $1.diagnostics.filter { $0.contains(": error: ") || $0.hasPrefix("error:") }.count }
            if invalid == 0 {
                Output.line("\(reports.count) spec\(reports.count == 1 ? "" : "s") valid")
            } else {
                Output.line("\(invalid) of \(reports.count) spec\(reports.count == 1 ? "" : "s") invalid (\(errors) error\(errors == 1 ? "" : "s"))")
            }
        }
        if invalid > 0 { throw ExitCode(1) }
    }
}
