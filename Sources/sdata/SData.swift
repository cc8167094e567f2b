import ArgumentParser
import Foundation

/// The `sdata` command: a thin layer over the S-Data libraries.
struct SData: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sdata",
        abstract: "Turn raw city data feeds into a governed, versioned open-data catalog.",
        discussion: """
            Specs live in pipelines/*.yaml; the catalog in ./catalog (or --catalog DIR, or SDATA_CATALOG).
            Exit codes: 0 success, 1 failure (invalid spec, failed run), 2 usage error.
            """,
        version: "0.1.0",
        subcommands: [Validate.self, Run.self, Schedule.self, WorkerCommand.self, Serve.self, Runs.self, CatalogCommand.self,
                      StoreCommand.self, RetentionCommand.self, Audit.self, Plugins.self, Init.self]
    )
}

@main
enum Main {
    static func main() async {
        do {
            var command = try SData.parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            let code = SData.exitCode(for: error)
            if code == .success {
                print(SData.fullMessage(for: error))
                exit(0)
            }
            if let exit = error as? ExitCode {
                Foundation.exit(exit.rawValue)
            }
            FileHandle.standardError.write(Data((SData.fullMessage(for: error) + "\n").utf8))
            // ArgumentParser reports usage errors as EX_USAGE (64); S-Data documents 2.
            Foundation.exit(code.rawValue == 64 ? 2 : code.rawValue)
        }
    }
}
