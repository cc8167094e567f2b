import ArgumentParser
import Foundation
import SDataCatalog

struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "The catalog store: which one is in use, and moving a catalog's state to another.",
        subcommands: [Status.self, Migrate.self]
    )

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "Show the store in use (password masked), its rows per table and the run queue.")

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let root = CatalogLayout(root: global.catalogRoot)
            let config = try CatalogConfig.load(path: root.configFile)
            let location = try StoreLocation(global.environment["SDATA_STORE"] ?? config.store, layout: root)
            let catalog = try global.openCatalog()
            var counts: [(String, Int)] = []
            for table in StoreTable.all { counts.append((table.name, try await catalog.store.countRows(table))) }
            let queue = try await catalog.store.queuedRuns(pipeline: nil, limit: 10_000)
            if global.json {
                struct Report: Encodable {
                    let store: String
                    let artifacts: String
                    let tables: [String: Int]
                    let queue: [String: Int]
                }
                try Output.json(Report(store: location.description, artifacts: catalog.artifacts.kind + ":" + catalog.layout.artifactsRoot,
                                       tables: Dictionary(uniqueKeysWithValues: counts),
                                       queue: Dictionary(grouping: queue, by: \.state.rawValue).mapValues(\.count)))
                return
            }
            Output.line("store:     \(location.description)")
            Output.line("artifacts: \(catalog.artifacts.kind) at \(catalog.layout.artifactsRoot)")
            for (table, count) in counts { Output.line("  \(table.padding(toLength: 16, withPad: " ", startingAt: 0)) \(count)") }
            let states = Dictionary(grouping: queue, by: \.state.rawValue).mapValues(\.count)
            Output.line("queue:     " + ["queued", "claimed", "done", "failed"].map { "\($0) \(states[$0] ?? 0)" }.joined(separator: ", "))
        }
    }

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "migrate",
            abstract: "Copy a catalog's whole state from one store to another, and prove it with counts and checksums.",
            discussion: """
                Copies every table (runs, versions, distributions, bookmarks, audit log, raw-extract keys, holds, \
                privacy ledger, leases, run queue) row for row into an empty target, in one transaction, then reads \
                both sides back and prints, per table, the row counts and a SHA-256 over the rows' canonical form; \
                exits 1 unless every table matches and the copied audit chain verifies. The source is not changed. \
                Stop schedulers and workers first; afterwards point catalog.yaml's `store:` (or SDATA_STORE) at the \
                target. Example: sdata store migrate --from sqlite:catalog/state.sqlite --to postgres://sdata@db/sdata
                """)

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("The source store (default: the catalog's current store).", valueName: "store"))
        var from: String?

        @Option(help: ArgumentHelp("The target store: postgres://… or sqlite:PATH; must be empty.", valueName: "store"))
        var to: String

        func run() async throws {
            let root = CatalogLayout(root: global.catalogRoot)
            let config = try CatalogConfig.load(path: root.configFile)
            let source = try StoreLocation(from ?? global.environment["SDATA_STORE"] ?? config.store, layout: root)
            let target = try StoreLocation(to, layout: root)
            guard source != target else { throw ValidationError("--from and --to name the same store") }
            let sourceStore = try source.open()
            let targetStore = try target.open()
            var tables: [(StoreTable, [[StoreCell]])] = []
            for table in StoreTable.all { tables.append((table, try await sourceStore.exportRows(table))) }
            do {
                try await targetStore.importRows(tables)
            } catch {
                Output.error("\(error)")
                throw ExitCode(1)
            }
            struct Line: Encodable {
                let table: String
                let sourceRows: Int
                let targetRows: Int
                let sourceSHA256: String
                let targetSHA256: String
                let matches: Bool
                enum CodingKeys: String, CodingKey {
                    case table, matches
                    case sourceRows = "source_rows"
                    case targetRows = "target_rows"
                    case sourceSHA256 = "source_sha256"
                    case targetSHA256 = "target_sha256"
                }
            }
            var report: [Line] = []
            for (table, rows) in tables {
                let copied = try await targetStore.exportRows(table)
                let sourceSum = StoreTable.checksum(rows), targetSum = StoreTable.checksum(copied)
                report.append(Line(table: table.name, sourceRows: rows.count, targetRows: copied.count,
                                   sourceSHA256: sourceSum, targetSHA256: targetSum,
                                   matches: rows.count == copied.count && sourceSum == targetSum))
            }
            let chain = AuditVerifier.verify(try await targetStore.auditLog())
            let ok = report.allSatisfy(\.matches) && chain.isEmpty
            if global.json {
                struct Report: Encodable {
                    let from: String
                    let to: String
                    let tables: [Line]
                    let auditChainIntact: Bool
                    let ok: Bool
                    enum CodingKeys: String, CodingKey {
                        case from, to, tables, ok
                        case auditChainIntact = "audit_chain_intact"
                    }
                }
                try Output.json(Report(from: source.description, to: target.description, tables: report,
                                       auditChainIntact: chain.isEmpty, ok: ok))
            } else {
                Output.line("from: \(source.description)")
                Output.line("to:   \(target.description)")
                Output.line("TABLE            SOURCE ROWS  TARGET ROWS  SHA-256 (source = target)        ")
                for line in report {
                    Output.line([
                        line.table.padding(toLength: 16, withPad: " ", startingAt: 0),
                        String(line.sourceRows).padding(toLength: 12, withPad: " ", startingAt: 0),
                        String(line.targetRows).padding(toLength: 12, withPad: " ", startingAt: 0),
                        line.matches ? String(line.sourceSHA256.prefix(16)) + "  ok"
                            : "\(line.sourceSHA256.prefix(16)) ≠ \(line.targetSHA256.prefix(16))  MISMATCH",
                    ].joined(separator: " "))
                }
                Output.line("audit chain: " + (chain.isEmpty ? "intact" : "BROKEN: \(chain.map(\.description).joined(separator: "; "))"))
                Output.line(ok ? "migrated: every table matches. Point catalog.yaml's `store:` (or SDATA_STORE) at the target."
                               : "the copy does not match the source")
            }
            if !ok { throw ExitCode(1) }
        }
    }
}
