import ArgumentParser
import Foundation
import SDataCatalog

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Inspect the catalog's append-only, hash-chained audit log.",
        subcommands: [Verify.self, Log.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Verify the audit log's hash chain; exit 1 when any entry was edited, removed or reordered.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let catalog = try global.openCatalog()
            let entries = try await catalog.store.auditLog()
            let problems = AuditVerifier.verify(entries)
            if global.json {
                try Output.json(["entries": "\(entries.count)", "problems": problems.map(\.description).joined(separator: "\n")])
            } else if problems.isEmpty {
                Output.line("audit log intact: \(entries.count) entries, chain verified")
            } else {
                for problem in problems { Output.error("audit log: \(problem)") }
                Output.line("audit log damaged: \(problems.count) problem\(problems.count == 1 ? "" : "s") in \(entries.count) entries")
            }
            if !problems.isEmpty { throw ExitCode(1) }
        }
    }

    struct Log: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "log",
            abstract: "Print the audit log, oldest first.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let catalog = try global.openCatalog()
            let entries = try await catalog.store.auditLog()
            if global.json { return try Output.json(entries) }
            for entry in entries {
                Output.line("\(entry.sequence)  \(entry.atText)  \(entry.kind)  \(entry.subject)  \(entry.detail)")
            }
        }
    }
}
