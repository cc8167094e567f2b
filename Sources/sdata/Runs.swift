import ArgumentParser
import Foundation
import SDataCatalog

struct Runs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "Show run history: when, how long, rows in/out/suppressed, outcome, version.")

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: ArgumentHelp("Only runs of this pipeline.", valueName: "id"))
    var pipeline: String?

    @Option(name: .long, help: "How many runs to show, newest first.")
    var limit = 20

    @Flag(help: "Show the run queue that `sdata worker` processes share instead: queued, claimed, done, failed.")
    var queue = false

    func run() async throws {
        let catalog = try global.openCatalog()
        if queue {
            try await showQueue(catalog)
            return
        }
        let runs = try await catalog.store.runs(pipeline: pipeline, limit: limit)
        if global.json {
            try Output.json(runs)
            return
        }
        if runs.isEmpty {
            Output.line("no runs yet")
            return
        }
        Output.line("STARTED (UTC)            DURATION  PIPELINE                        OUTCOME     IN       OUT      SUPPR.  VERSION")
        for run in runs {
            let duration = run.finishedAt.map { String(format: "%.1fs", $0.timeIntervalSince(run.startedAt)) } ?? "-"
            let started = String(Timestamp.string(run.startedAt).prefix(19)).replacingOccurrences(of: "T", with: " ")
            Output.line([
                started.padding(toLength: 24, withPad: " ", startingAt: 0),
                duration.padding(toLength: 9, withPad: " ", startingAt: 0),
                run.pipeline.padding(toLength: 31, withPad: " ", startingAt: 0),
                run.status.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0),
                String(run.rowsIn).padding(toLength: 8, withPad: " ", startingAt: 0),
                String(run.rowsOut).padding(toLength: 8, withPad: " ", startingAt: 0),
                String(run.rowsSuppressed).padding(toLength: 7, withPad: " ", startingAt: 0),
                run.version.map(String.init) ?? "-",
            ].joined(separator: " "))
            if let error = run.error { Output.line("    \(error)") }
        }
    }

    private func showQueue(_ catalog: Catalog) async throws {
        let entries = try await catalog.store.queuedRuns(pipeline: pipeline, limit: limit)
        if global.json {
            try Output.json(entries)
            return
        }
        if entries.isEmpty {
            Output.line("the run queue is empty")
            return
        }
        Output.line("ID      ENQUEUED (UTC)       PIPELINE                        KEY                       STATE    TRIES  WORKER / OUTCOME")
        for entry in entries {
            let enqueued = String(Timestamp.string(entry.enqueuedAt).prefix(19)).replacingOccurrences(of: "T", with: " ")
            Output.line([
                String(entry.id).padding(toLength: 7, withPad: " ", startingAt: 0),
                enqueued.padding(toLength: 20, withPad: " ", startingAt: 0),
                entry.pipeline.padding(toLength: 31, withPad: " ", startingAt: 0),
                entry.key.padding(toLength: 25, withPad: " ", startingAt: 0),
                entry.state.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0),
                String(entry.attempts).padding(toLength: 6, withPad: " ", startingAt: 0),
                (entry.state == .claimed ? entry.worker : entry.outcome) ?? "-",
            ].joined(separator: " "))
        }
    }
}
