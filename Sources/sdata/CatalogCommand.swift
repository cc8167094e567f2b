import ArgumentParser
import Foundation
import SDataCatalog

struct CatalogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog",
        abstract: "Read the catalog: datasets, versions, files.",
        subcommands: [List.self, Show.self, Versions.self, Path.self, Diff.self, Dump.self, Verify.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List datasets with their latest version.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let catalog = try global.openCatalog()
            var latest: [VersionRecord] = []
            for dataset in try await catalog.store.datasets() {
                if let version = try await catalog.store.latestVersion(dataset: dataset) { latest.append(version) }
            }
            if global.json { return try Output.json(latest) }
            if latest.isEmpty { return Output.line("no datasets published yet") }
            for version in latest {
                Output.line("\(version.dataset)  v\(version.number)  \(version.rowCount) rows  \(version.title)")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Show a dataset version: files, checksums, lineage.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The dataset id.") var id: String
        @Option(name: .long, help: "A version number (default: the latest).") var version: Int?

        func run() async throws {
            let catalog = try global.openCatalog()
            let record = try await CatalogCommand.find(catalog, id, version)
            if global.json { return try Output.json(record) }
            Output.line("\(record.title)")
            Output.line("dataset:   \(record.dataset)")
            Output.line("version:   \(record.number) (published \(Timestamp.string(record.createdAt)), run \(record.runId))")
            Output.line("rows:      \(record.rowCount)")
            Output.line("content:   sha256 \(record.contentHash)")
            Output.line("folder:    \(catalog.versionPath(dataset: record.dataset, version: record.number))")
            Output.line("files:")
            for distribution in record.distributions {
                Output.line("  \(distribution.path)  \(Output.size(distribution.bytes))  \(distribution.mediaType)")
                Output.line("    sha256 \(distribution.sha256)")
            }
        }
    }

    struct Versions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "versions",
            abstract: "List every version of a dataset.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The dataset id.") var id: String

        func run() async throws {
            let catalog = try global.openCatalog()
            let versions = try await catalog.store.versions(dataset: id)
            if versions.isEmpty {
                Output.error("no dataset '\(id)' in the catalog")
                throw ExitCode(1)
            }
            if global.json { return try Output.json(versions) }
            for version in versions.reversed() {
                Output.line("v\(version.number)  \(Timestamp.string(version.createdAt))  \(version.rowCount) rows  run \(version.runId)")
            }
        }
    }

    struct Path: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "path",
            abstract: "Print the path of a version's file in a format.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The dataset id.") var id: String
        @Option(name: .long, help: "A version number (default: the latest).") var version: Int?
        @Option(name: .long, help: "The format: csv or json.") var format: String

        func run() async throws {
            let catalog = try global.openCatalog()
            let record = try await CatalogCommand.find(catalog, id, version)
            guard let distribution = record.distributions.first(where: { $0.format == format }) else {
                let formats = record.distributions.map(\.format).joined(separator: ", ")
                Output.error("version \(record.number) of '\(id)' has no \(format) file (it has \(formats))")
                throw ExitCode(1)
            }
            let path = catalog.layout.publicDirectory + "/" + distribution.path
            if global.json { return try Output.json(["path": path, "sha256": distribution.sha256]) }
            Output.line(path)
        }
    }

    struct Diff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "diff",
            abstract: "What changed between two versions: fields, and rows added, removed or changed.",
            discussion: """
                Rows are matched by the schema's primary key when it has one (changed rows are those whose other \
                values differ), else by their whole content (then only added and removed). Only the fields both \
                versions have are compared.
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The dataset id.") var id: String
        @Argument(help: "The older version.") var from: Int
        @Argument(help: "The newer version.") var to: Int

        func run() async throws {
            let catalog = try global.openCatalog()
            let diff: VersionDiff
            do {
                diff = try await VersionDiff.compare(catalog, dataset: id, from: from, to: to)
            } catch {
                Output.error("\(error)")
                throw ExitCode(1)
            }
            if global.json { return try Output.json(diff) }
            Output.line("\(id): version \(from) → \(to), rows matched by \(diff.matchedBy)")
            if !diff.fieldsAdded.isEmpty { Output.line("  fields added:   \(diff.fieldsAdded.joined(separator: ", "))") }
            if !diff.fieldsRemoved.isEmpty { Output.line("  fields removed: \(diff.fieldsRemoved.joined(separator: ", "))") }
            if !diff.fieldsRetyped.isEmpty { Output.line("  fields retyped: \(diff.fieldsRetyped.joined(separator: ", "))") }
            Output.line("  rows: +\(diff.rowsAdded) added, -\(diff.rowsRemoved) removed, ~\(diff.rowsChanged) changed, "
                        + "\(diff.rowsUnchanged) unchanged")
            for (label, keys) in [("added", diff.sampleAdded), ("removed", diff.sampleRemoved), ("changed", diff.sampleChanged)]
            where !keys.isEmpty {
                Output.line("  e.g. \(label): \(keys.joined(separator: "; "))")
            }
        }
    }

    struct Dump: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dump",
            abstract: "Write a zip of every dataset's latest version into public/dumps/.",
            discussion: """
                The zip holds each dataset's latest version (data files, datapackage.json, governance report), \
                catalog.jsonld and MANIFEST.sha256, a SHA-256 for every file in it. It is built aside and renamed \
                into place, with NAME.zip.sha256 beside it and dumps/index.json listing every dump. Older dumps \
                beyond --keep (default: dumps.keep in catalog.yaml, else 7) are deleted. The scheduler writes one \
                after a tick in which a run published something.
                """)
        @OptionGroup var global: GlobalOptions
        @Option(name: .long, help: "How many dumps to keep.") var keep: Int?

        func run() async throws {
            let catalog = try global.openCatalog()
            let made = try await CatalogDump.make(catalog, keep: keep ?? catalog.config.dumps?.keep ?? 7)
            if global.json { return try Output.json(made) }
            Output.line("\(made.file): \(made.datasets) datasets, \(made.files) files, \(Output.size(made.bytes)), "
                        + "sha256 \(made.sha256)")
            for old in made.removed { Output.line("removed older dump \(old)") }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Check a dump against its manifest; exit 1 when a file is missing, extra or altered.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The dump (a .zip from public/dumps/).") var dump: String

        func run() async throws {
            let result = try CatalogDump.verify(dump)
            if global.json { try Output.json(result) } else if result.ok {
                Output.line("ok: \(result.files) files match MANIFEST.sha256")
            } else {
                for problem in result.problems { Output.error(problem) }
            }
            if !result.ok { throw ExitCode(1) }
        }
    }

    static func find(_ catalog: Catalog, _ id: String, _ version: Int?) async throws -> VersionRecord {
        let versions = try await catalog.store.versions(dataset: id)
        guard !versions.isEmpty else {
            let known = try await catalog.store.datasets()
            Output.error("no dataset '\(id)' in the catalog" + (known.isEmpty ? "" : " (known: \(known.joined(separator: ", ")))"))
            throw ExitCode(1)
        }
        if let version {
            guard let record = versions.first(where: { $0.number == version }) else {
                Output.error("dataset '\(id)' has no version \(version) (versions 1…\(versions.count))")
                throw ExitCode(1)
            }
            return record
        }
        return versions[versions.count - 1]
    }
}
