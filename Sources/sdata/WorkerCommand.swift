import ArgumentParser
import Foundation
import Logging
import SDataCore
import SDataSpec
import SDataCatalog
import SDataRunner
import SDataScheduler
import SDataServer
import ServiceLifecycle

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Share the schedule with other workers: claim due runs from the catalog store's queue and run them.",
        discussion: """
            Start one or more workers on one or more machines, all with the same specs and the same catalog \
            (catalog.yaml's `store:` a PostgreSQL URL — or SDATA_STORE — and the catalog's files on a shared \
            path). Every --tick each worker enqueues the firings that are due (once: the firing is the queue key) \
            and claims queued runs (FOR UPDATE SKIP LOCKED), up to --concurrency at once, heartbeating each claim. \
            A worker that dies stops heartbeating: after --lease-ttl another worker takes its run over; the dead \
            attempt is marked failed (stale) and nothing of it is published. A run claimed --max-attempts times \
            without finishing is given up (failed). SIGTERM or SIGINT stops a worker cleanly: its runs are \
            cancelled, recorded failed and their queue entries released to the others after --lease-ttl. \
            `sdata runs --queue` shows the queue. See docs/scaling.md.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("Spec files or folders (default: pipelines/*.yaml).", valueName: "spec"))
    var specs: [String] = []

    @Option(help: ArgumentHelp("How often to plan and claim.", valueName: "duration"))
    var tick = "5s"

    @Option(help: ArgumentHelp("Runs at once in this worker.", valueName: "n"))
    var concurrency = 1

    @Option(help: ArgumentHelp("How long a dead worker's claims and leases last before another takes over.",
                               valueName: "duration"))
    var leaseTTL = "60s"

    @Option(help: ArgumentHelp("Claims of one queued run before it is given up as failed.", valueName: "n"))
    var maxAttempts = 3

    @Flag(help: "Exit once no queued or running work is left for these specs (cron-driven workers, tests).")
    var drain = false

    @Flag(help: "Do not enqueue due firings: only run what other workers or schedulers enqueued.")
    var noPlan = false

    @OptionGroup var metrics: MetricsOptions

    func validate() throws {
        guard DurationText.seconds(tick).map({ $0 > 0 }) == true else { throw ValidationError("--tick must be a duration like 5s") }
        guard DurationText.seconds(leaseTTL).map({ $0 >= 3 }) == true else {
            throw ValidationError("--lease-ttl must be a duration of at least 3s")
        }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        guard maxAttempts >= 1 else { throw ValidationError("--max-attempts must be at least 1") }
    }

    func run() async throws {
        let redactor = SecretRedactor()
        global.bootstrapLogging(redactor: redactor)
        let registry = Metrics.bootstrap()
        let loaded = try SpecFiles.loadValid(specs, global: global, redactor: redactor, action: "running")
        let catalog = try global.openCatalog()
        // Workers on several machines share the catalog: they need the run lock only shared, like schedulers.
        let lock = try catalog.acquireRunLock()
        defer { lock.release() }
        RunMetrics.seedLastSuccess(try await catalog.store.runs(pipeline: nil, limit: 10_000))
        let ttl = Double(DurationText.seconds(leaseTTL) ?? 60)
        let runner = PipelineRunner(catalog: catalog, redactor: redactor, logger: Logger(label: "sdata.run"),
                                    options: .init(leaseTTL: ttl))
        let logger = Logger(label: "sdata.worker")
        let hooks = RunHooks.make(specs: loaded, catalog: catalog, global: global, holder: runner.options.holder, logger: logger)
        let worker = Worker(
            specs: loaded, runner: runner,
            options: .init(tick: Double(DurationText.seconds(tick) ?? 5), concurrency: concurrency, leaseTTL: ttl,
                           maxAttempts: maxAttempts, drain: drain, plan: !noPlan),
            logger: logger, onFinished: hooks.onFinished, onTick: hooks.onTick)
        // With --drain the worker returns when the queue is empty, which ends the group (and the metrics listener).
        try await ServiceRunner.run([worker] + metrics.services(catalog: catalog, registry: registry))
    }
}
