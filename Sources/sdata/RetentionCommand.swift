import ArgumentParser
import Foundation
import SDataCatalog
import SDataSpec
import SDataCore

struct RetentionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention",
        abstract: "Destroy raw extracts and withdraw old versions as the specs' retention policies say.",
        discussion: """
            Policies come from governance.retention in the specs (default: pipelines/*.yaml). Raw extracts are \
            crypto-shredded: their key is deleted from the store first, then their files. Withdrawn versions keep a \
            tombstone in the catalog; the newest version is never withdrawn. A legal hold on a dataset or run blocks \
            every deletion that concerns it. Each deletion writes an audit entry.
            """,
        subcommands: [Plan.self, Apply.self, Hold.self, Release.self, Holds.self]
    )

    struct Policies: ParsableArguments {
        @Argument(help: ArgumentHelp("Spec files (default: pipelines/*.yaml).", valueName: "spec"))
        var specs: [String] = []
    }

    static func policies(_ global: GlobalOptions, _ files: [String]) throws -> [PipelineRetention] {
        let redactor = SecretRedactor()
        let loader = try global.loader(redactor: redactor)
        var policies: [PipelineRetention] = []
        for file in try SpecFiles.resolve(files) {
            switch loader.load(file: file) {
            case .success(let spec):
                policies.append(PipelineRetention(pipeline: spec.id, dataset: spec.publish.dataset,
                                                  policy: spec.governance.retention,
                                                  sensitive: spec.governance.classification == .sensitive))
            case .failure(let error):
                for diagnostic in error.diagnostics { Output.error(redactor.redact(diagnostic.description)) }
                throw ExitCode(1)
            }
        }
        return policies
    }

    static func show(_ actions: [RetentionAction], verb: String) {
        if actions.isEmpty { return Output.line("nothing to \(verb)") }
        for action in actions {
            let hold = action.blockedByHold.map { "  [blocked by legal hold \($0)]" } ?? ""
            Output.line("\(action.kind.rawValue.padding(toLength: 18, withPad: " ", startingAt: 0)) \(action.subject): \(action.reason)\(hold)")
        }
    }

    struct Plan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "plan",
            abstract: "Show what retention would delete, and why.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var policies: Policies

        func run() async throws {
            let catalog = try global.openCatalog()
            let actions = try await Retention(catalog: catalog).plan(policies: try RetentionCommand.policies(global, policies.specs))
            if global.json { return try Output.json(actions) }
            RetentionCommand.show(actions, verb: "delete")
        }
    }

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "apply",
            abstract: "Delete what retention says is due (held items stay).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var policies: Policies

        func run() async throws {
            let catalog = try global.openCatalog()
            let lock: Catalog.RunLock
            do { lock = try catalog.acquireRunLock(exclusive: true) } catch {
                Output.error("\(error)")
                throw ExitCode(1)
            }
            defer { lock.release() }
            let retention = Retention(catalog: catalog)
            let planned = try await retention.plan(policies: try RetentionCommand.policies(global, policies.specs))
            let done = try await retention.apply(planned)
            if global.json { return try Output.json(done) }
            RetentionCommand.show(done, verb: "delete")
            let blocked = planned.count - done.count
            if blocked > 0 { Output.line("\(blocked) deletion\(blocked == 1 ? "" : "s") held back by legal holds") }
        }
    }

    struct Hold: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "hold",
            abstract: "Place a legal hold on a dataset or a run.")
        @OptionGroup var global: GlobalOptions
        @Option(name: .long, help: "The dataset to hold.") var dataset: String?
        @Option(name: .long, help: "The run whose raw extract to hold.") var run: String?
        @Option(name: .long, help: "Why (recorded in the audit log).") var reason: String

        func validate() throws {
            if (dataset == nil) == (run == nil) { throw ValidationError("give --dataset or --run") }
        }

        func run() async throws {
            let catalog = try global.openCatalog()
            let id = try await catalog.store.addHold(dataset: dataset, runId: run, reason: reason)
            Output.line("legal hold \(id) placed on \(dataset.map { "dataset \($0)" } ?? "run \(run!)")")
        }
    }

    struct Release: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "release",
            abstract: "Release a legal hold.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The hold's number.") var id: Int

        func run() async throws {
            let catalog = try global.openCatalog()
            guard try await catalog.store.releaseHold(id: id) else {
                Output.error("there is no active legal hold \(id)")
                throw ExitCode(1)
            }
            Output.line("legal hold \(id) released")
        }
    }

    struct Holds: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "holds",
            abstract: "List active legal holds.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let holds = try await global.openCatalog().store.activeHolds()
            if global.json { return try Output.json(holds) }
            if holds.isEmpty { return Output.line("no active legal holds") }
            for hold in holds {
                Output.line("\(hold.id)  \(hold.dataset.map { "dataset \($0)" } ?? "run \(hold.runId ?? "")")  \(hold.reason)")
            }
        }
    }
}
