import ArgumentParser
import Foundation
import Logging
import SDataCore
import SDataSpec
import SDataCatalog
import SDataRunner

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run pipelines: extract, stage, govern, write and publish.",
        discussion: """
            Each run publishes a new immutable version of its dataset, or none when the content equals the latest \
            version ("unchanged"). A failed run publishes nothing and leaves every published version as it was. \
            The run is recorded either way (see 'sdata runs').
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("Spec files to run.", valueName: "spec"))
    var specs: [String] = []

    @Flag(name: .long, help: "Run every pipelines/*.yaml.")
    var all = false

    @Flag(name: .long, help: "Fetch, govern and write, then report without publishing.")
    var dryRun = false

    @Flag(name: .long, help: ArgumentHelp(
        "Run only pipelines whose schedule has fired since their last run (for cron or systemd timers).",
        discussion: "Missed firings during downtime give one run, not one per firing. A pipeline that never ran is due."))
    var due = false

    @Option(name: .long, help: ArgumentHelp(
        "Which engine governs: auto, row or columnar.",
        discussion: "auto (the default) uses the columnar engine where the pipeline allows it — a CSV file source, "
            + "no declared schema or cursor, the rules pseudonymize, generalize, redact, drop, select, rename and one "
            + "k_anonymity, CSV distributions — and the row engine otherwise. columnar fails, saying why, where it "
            + "cannot be used. Both publish the same bytes (docs/performance.md).",
        valueName: "engine"))
    var engine = "auto"

    func validate() throws {
        if all && !specs.isEmpty { throw ValidationError("give spec files or --all, not both") }
        if !all && specs.isEmpty { throw ValidationError("name the specs to run, or use --all") }
        if PipelineRunner.Engine(rawValue: engine) == nil {
            throw ValidationError("--engine must be auto, row or columnar, not '\(engine)'")
        }
    }

    func run() async throws {
        // First, so that a stop signal during start-up is a clean stop too (no run starts) rather than the default
        // action, or nothing at all when the signal was ignored where the process was started.
        let stop = StopSignals()
        let redactor = SecretRedactor()
        global.bootstrapLogging(redactor: redactor)
        var loaded = try SpecFiles.loadValid(all ? [] : specs, global: global, redactor: redactor, action: "running")
        let catalog = try global.openCatalog()
        let allSpecs = loaded
        if due {
            loaded = try await Run.dueSpecs(loaded, catalog: catalog, now: Date())
            if loaded.isEmpty {
                if global.json { try Output.json([RunSummary]()) } else { Output.line("no pipeline is due") }
                if let alerts = WebhookNotifier.configured(for: catalog, environment: global.environment,
                                                           logger: Logger(label: "sdata.alerts")) {
                    for alert in try await Run.staleness(allSpecs, catalog: catalog, now: Date()) { await alerts.send(alert) }
                }
                return
            }
        }
        let lock: Catalog.RunLock
        do {
            lock = try catalog.acquireRunLock()
        } catch {
            Output.error("\(error)")
            throw ExitCode(1)
        }
        defer { lock.release() }
        for note in try await catalog.recover() { Output.line("recovered: \(note)") }
        let board = ProgressBoard()
        let runner = PipelineRunner(catalog: catalog, redactor: redactor, logger: Logger(label: "sdata.run"),
                                    progress: board.progress, options: .init(dryRun: dryRun, engine: PipelineRunner.Engine(rawValue: engine) ?? .auto))
        let alerts = WebhookNotifier.configured(for: catalog, environment: global.environment,
                                                 logger: Logger(label: "sdata.alerts"))
        var summaries: [RunSummary] = []
        for spec in loaded {
            if stop.received != nil { break }
            let summary = await stop.cancellingOnSignal { await runner.run(spec) }
            board.reset()
            summaries.append(summary)
            if !global.json { Output.line(Run.describe(summary)) }
            if summary.run.status == .failed, let alerts, !dryRun {
                await alerts.send(Alert(event: .runFailed, pipeline: spec.id, catalog: catalog.config.title,
                                        message: summary.run.error ?? "the run failed", runId: summary.run.id))
            }
        }
        if due, let alerts {
            for alert in try await Run.staleness(allSpecs, catalog: catalog, now: Date()) { await alerts.send(alert) }
        }
        // Scheduled passes (--due) end with a fresh whole-catalog dump when they published something.
        if due, !dryRun, catalog.config.dumps?.afterRuns ?? true, summaries.contains(where: { $0.run.status == .published }) {
            let made = try await CatalogDump.make(catalog, keep: catalog.config.dumps?.keep ?? 7)
            if !global.json { Output.line("dump: \(made.file)") }
        }
        if let signal = stop.received {
            Output.error("stopped by \(signal): the interrupted run was recorded as failed and published nothing")
            throw ExitCode(1)
        }
        board.reset()
        let failed = summaries.filter { $0.run.status == .failed }.count
        let skipped = summaries.filter { $0.run.status == .skipped }.count
        if global.json {
            try Output.json(summaries)
        } else {
            let publicDirectory = URL(fileURLWithPath: catalog.layout.publicDirectory).standardizedFileURL.path
            Output.line("")
            Output.line("\(summaries.count - failed - skipped) of \(summaries.count) pipeline\(summaries.count == 1 ? "" : "s") succeeded"
                        + (skipped > 0 ? " (\(skipped) skipped: running in another process)" : ""))
            if !dryRun {
                Output.line("catalog: \(publicDirectory)")
                Output.line("index:   \(publicDirectory)/index.html")
            }
        }
        if failed > 0 { throw ExitCode(1) }
    }

    /// Alerts for pipelines without a successful run for longer than their `max_staleness`, at most one per pipeline
    /// and staleness period (remembered in the store).
    static func staleness(_ specs: [PipelineSpec], catalog: Catalog, now: Date) async throws -> [Alert] {
        var alerts: [Alert] = []
        for spec in specs {
            guard let limit = spec.operations.maxStaleness else { continue }
            let runs = try await catalog.store.runs(pipeline: spec.id, limit: 500)
            let success = runs.first { $0.status == .published || $0.status == .unchanged }
            let since = success?.startedAt ?? runs.last?.startedAt ?? now
            guard now.timeIntervalSince(since) > Double(limit) else { continue }
            let marker = "alert:stale:" + spec.id
            if let sent = try await catalog.store.bookmark(pipeline: marker),
               now.timeIntervalSince(Timestamp.date(sent)) < Double(limit) { continue }
            try await catalog.store.setBookmark(Timestamp.string(now), pipeline: marker)
            alerts.append(Alert(event: .stale, pipeline: spec.id, catalog: catalog.config.title,
                                message: "no successful run for more than \(limit) s (max_staleness)",
                                at: now, lastSuccess: success?.startedAt))
        }
        return alerts
    }

    /// The specs whose schedule fired after their last run started (specs without a schedule are never due). With
    /// `catchup: none`, firings before the previous `--due` check were missed and are skipped.
    static func dueSpecs(_ specs: [PipelineSpec], catalog: Catalog, now: Date) async throws -> [PipelineSpec] {
        let checkedKey = "#due-checked"
        let checkedSince = try await catalog.store.bookmark(pipeline: checkedKey).map(Timestamp.date)
        var due: [PipelineSpec] = []
        for spec in specs {
            guard spec.schedule != nil else {
                Output.line("- \(spec.id): no schedule")
                continue
            }
            let last = try await catalog.store.runs(pipeline: spec.id, limit: 1).first?.startedAt
            if spec.dueFiring(now: now, lastRun: last, checkedSince: checkedSince) != nil {
                due.append(spec)
            } else if let next = spec.nextFiring(after: now) {
                Output.line("- \(spec.id): not due (next run \(Timestamp.string(next)))")
            }
        }
        try await catalog.store.setBookmark(Timestamp.string(now), pipeline: checkedKey)
        return due
    }

    static func describe(_ summary: RunSummary) -> String {
        let run = summary.run
        let counts = "\(run.rowsIn) rows in, \(run.rowsOut) out, \(run.rowsSuppressed) suppressed"
        var text: String
        switch run.status {
        case .published: text = "✓ \(run.pipeline): published version \(run.version ?? 0) (\(counts))"
        case .unchanged: text = "✓ \(run.pipeline): unchanged, latest is version \(run.version ?? 0) (\(counts))"
        case .dryRun:
            let files = summary.distributions.map { "\($0.format) \(Output.size($0.bytes))" }.joined(separator: ", ")
            text = "✓ \(run.pipeline): dry run, nothing published (\(counts); would write \(files))"
        case .failed: text = "✗ \(run.pipeline): failed: \(run.error ?? "unknown error")"
        case .running: text = "… \(run.pipeline): still running"
        case .skipped: text = "- \(run.pipeline): skipped: \(run.error ?? "already running elsewhere")"
        }
        if let path = summary.versionPath { text += "\n    \(path)" }
        for note in summary.notes { text += "\n    note: \(note)" }
        return text
    }
}
