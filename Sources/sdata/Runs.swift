import ArgumentParser
import Foundation
import SDataCatalog

struct Runs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show run history: when, how long, rows in/out/suppressed, outcome, version.")

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: ArgumentHelp("Only runs of this pipeline.", valueName: "id"))
    var pipeline: String?

    @Option(name: .long, help: "How many runs to show, newest first.")
    var limit = 20

    func run() async throws {
        let catalog = try global.openCatalog()
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
}
