import ArgumentParser
import Foundation
import Logging
import Metrics
import Prometheus
import SDataCore
import SDataSpec
import SDataCatalog
import SDataRunner
import SDataScheduler
import SDataServer
import ServiceLifecycle

struct Schedule: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Run the scheduler in the foreground: each pipeline runs when its schedule fires.",
        discussion: """
            Checks the schedules every --tick; a due pipeline runs unless it is already running here or in another \
            process (several schedulers may share a catalog: a run holds its pipeline's lease in the catalog store, \
            renewed by a heartbeat; a process that dies loses its leases after --lease-ttl, and its runs are then \
            marked failed and nothing of them is published). At most --max-concurrent runs at once, counted across \
            every scheduler sharing the catalog (slot leases in the store). Missed firings \
            after downtime give one run (catchup: latest) or none (catchup: none). SIGTERM or SIGINT stops it \
            cleanly: running runs are cancelled, recorded as failed, publish nothing and release their leases. \
            With --metrics-port, Prometheus metrics are served at /metrics.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var scheduling: SchedulingOptions

    @Argument(help: ArgumentHelp("Spec files or folders (default: pipelines/*.yaml).", valueName: "spec"))
    var specs: [String] = []

    @OptionGroup var metrics: MetricsOptions

    func run() async throws {
        let redactor = SecretRedactor()
        global.bootstrapLogging(redactor: redactor)
        let registry = Metrics.bootstrap()
        let loaded = try SpecFiles.loadValid(specs, global: global, redactor: redactor, action: "scheduling")
        let catalog = try global.openCatalog()
        let scheduler = try await scheduling.scheduler(specs: loaded, catalog: catalog, global: global, redactor: redactor)
        try await ServiceRunner.run([scheduler] + metrics.services(catalog: catalog, registry: registry))
    }
}

/// Options of the scheduler, shared by `sdata schedule` and `sdata serve --scheduler`.
struct SchedulingOptions: ParsableArguments {
    @Option(help: ArgumentHelp("How often schedules are checked.", valueName: "duration"))
    var tick = "15s"

    @Option(help: ArgumentHelp("Runs at once, across every scheduler sharing the catalog.", valueName: "n"))
    var maxConcurrent = 2

    @Option(help: ArgumentHelp("How long a dead process's pipeline leases last before another takes over.",
                               valueName: "duration"))
    var leaseTTL = "60s"

    func validate() throws {
        guard DurationText.seconds(tick).map({ $0 > 0 }) == true else { throw ValidationError("--tick must be a duration like 15s") }
        guard DurationText.seconds(leaseTTL).map({ $0 >= 3 }) == true else {
            throw ValidationError("--lease-ttl must be a duration of at least 3s")
        }
        guard maxConcurrent >= 1 else { throw ValidationError("--max-concurrent must be at least 1") }
    }

    /// The scheduler service: runs go through a runner holding leases; failures and staleness raise alerts.
    func scheduler(specs: [PipelineSpec], catalog: Catalog, global: GlobalOptions,
                   redactor: SecretRedactor) async throws -> Scheduler {
        let scheduled = specs.filter { $0.schedule != nil }
        if scheduled.isEmpty { Output.error("warning: no spec has a schedule; the scheduler will only wait") }
        RunMetrics.seedLastSuccess(try await catalog.store.runs(pipeline: nil, limit: 10_000))
        let runner = PipelineRunner(catalog: catalog, redactor: redactor, logger: Logger(label: "sdata.run"),
                                    options: .init(leaseTTL: Double(DurationText.seconds(leaseTTL) ?? 60)))
        let logger = Logger(label: "sdata.schedule")
        let hooks = RunHooks.make(specs: specs, catalog: catalog, global: global, holder: runner.options.holder, logger: logger)
        return Scheduler(
            specs: specs, runner: runner,
            options: .init(tick: Double(DurationText.seconds(tick) ?? 15), maxConcurrent: maxConcurrent),
            logger: logger, onFinished: hooks.onFinished, onTick: hooks.onTick)
    }
}

/// What schedulers and workers do after each run and each tick: alerts for failures and staleness, and a new
/// whole-catalog dump after a tick in which something was published.
struct RunHooks {
    let onFinished: @Sendable (PipelineSpec, RunSummary) async -> Void
    let onTick: @Sendable () async -> Void

    static func make(specs: [PipelineSpec], catalog: Catalog, global: GlobalOptions, holder: String,
                     logger: Logger) -> RunHooks {
        let alerts = WebhookNotifier.configured(for: catalog, environment: global.environment,
                                                 logger: Logger(label: "sdata.alerts"))
        let published = PublishedFlag()
        return RunHooks(
            onFinished: { spec, summary in
                logger.info("\(Run.describe(summary))")
                if summary.run.status == .published { await published.set() }
                if summary.run.status == .failed, let alerts {
                    await alerts.send(Alert(event: .runFailed, pipeline: spec.id, catalog: catalog.config.title,
                                            message: summary.run.error ?? "the run failed", runId: summary.run.id))
                }
            },
            onTick: {
                // A new whole-catalog dump after a tick in which something was published (dumps.after_runs); one
                // process at a time writes it (a lease in the store: schedulers and workers may be several).
                if catalog.config.dumps?.afterRuns ?? true, await published.take(),
                   (try? await catalog.store.acquireLease("catalog-dump", holder: holder, ttl: 600, now: Date())) == true {
                    do {
                        let made = try await CatalogDump.make(catalog, keep: catalog.config.dumps?.keep ?? 7)
                        logger.info("dump written", metadata: ["file": "\(made.file)", "sha256": "\(made.sha256)"])
                    } catch {
                        logger.error("cannot write the catalog dump", metadata: ["reason": "\(error)"])
                    }
                    try? await catalog.store.releaseLease("catalog-dump", holder: holder)
                }
                // Every pipeline with a max_staleness, whether or not it ran: a pipeline that never succeeds, or
                // never starts, is exactly what this alert is for. At most one alert per staleness period.
                guard let alerts, let stale = try? await Run.staleness(specs, catalog: catalog, now: Date()) else { return }
                for alert in stale { await alerts.send(alert) }
            })
    }
}

/// `--metrics-port` and `--metrics-host`: a listener for `/metrics` (and `/healthz`) beside a scheduler or worker.
struct MetricsOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Serve Prometheus metrics at http://HOST:PORT/metrics.", valueName: "port"))
    var metricsPort: Int?

    @Option(help: ArgumentHelp("The address the metrics listener binds.", valueName: "host"))
    var metricsHost = "127.0.0.1"

    func services(catalog: Catalog, registry: PrometheusCollectorRegistry) -> [any Service] {
        guard let metricsPort else { return [] }
        return [CatalogServer.application(catalog: catalog, metrics: registry,
                                          options: .init(host: metricsHost, port: metricsPort, serveFiles: false),
                                          logger: Logger(label: "sdata.metrics"))]
    }
}

/// Runs services until SIGTERM or SIGINT, then shuts them down gracefully.
enum ServiceRunner {
    static func run(_ services: [any Service]) async throws {
        let logger = Logger(label: "sdata.services")
        let group = ServiceGroup(configuration: .init(
            // A service that returns (a draining worker) ends the group cleanly rather than as an error.
            services: services.map {
                ServiceGroupConfiguration.ServiceConfiguration(service: $0, successTerminationBehavior: .gracefullyShutdownGroup)
            },
            logger: logger))
        // Our own handler rather than the group's signal sequence: see ``StopSignals`` for why.
        let stop = StopSignals { name in
            logger.info("shutting down", metadata: ["signal": "\(name)"])
            Task { await group.triggerGracefulShutdown() }
        }
        defer { withExtendedLifetime(stop) {} }
        try await group.run()
    }
}

enum Metrics {
    /// Routes swift-metrics into a Prometheus registry (once per process) and returns it.
    static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }
}

/// Whether a run published something since the last dump.
actor PublishedFlag {
    private var value = false
    func set() { value = true }
    /// The flag's value, clearing it.
    func take() -> Bool {
        defer { value = false }
        return value
    }
}
