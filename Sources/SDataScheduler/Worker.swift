import Foundation
public import Logging
import SDataCatalog
public import SDataRunner
public import SDataSpec
public import ServiceLifecycle

/// A worker: the service behind `sdata worker`. Several workers on several machines share one catalog store
/// (PostgreSQL) and run a night's schedule together.
///
/// Every `tick` a worker *plans* — enqueues each scheduled pipeline's due firing in the store's run queue (the key is
/// the firing, so workers planning the same firing at once add one entry) — then *claims* queued runs of the
/// pipelines it has specs for, up to `concurrency` at once, and runs them. A claim lives as long as its worker
/// heartbeats (every third of `leaseTTL`); the run itself holds the pipeline's lease, renewed the same way. A worker
/// killed mid-run stops heartbeating: after `leaseTTL` another worker's claim takes the entry over, marks the dead
/// attempt failed ("stale"; nothing of it was published — versions become visible only at their commit) and runs
/// the pipeline again. An entry claimed `maxAttempts` times without finishing is given up as failed.
public struct Worker: Service, CustomStringConvertible {
    public struct Options: Sendable {
        /// Seconds between planning and claiming rounds.
        public var tick: Double
        /// Runs at once in this worker.
        public var concurrency: Int
        /// Seconds without a heartbeat after which a claim (and a pipeline lease) is taken over.
        public var leaseTTL: Double
        public var maxAttempts: Int
        /// Stop once no queued or claimed run is left for this worker's pipelines (tests, cron-driven workers).
        public var drain: Bool
        /// Enqueue due firings (default). Off: only run what others enqueued.
        public var plan: Bool

        public init(tick: Double = 5, concurrency: Int = 1, leaseTTL: Double = 60, maxAttempts: Int = 3,
                    drain: Bool = false, plan: Bool = true) {
            self.tick = tick
            self.concurrency = max(1, concurrency)
            self.leaseTTL = leaseTTL
            self.maxAttempts = max(1, maxAttempts)
            self.drain = drain
            self.plan = plan
        }
    }

    let specs: [String: PipelineSpec]
    let runner: PipelineRunner
    let options: Options
    let logger: Logger
    let onFinished: @Sendable (PipelineSpec, RunSummary) async -> Void
    let onTick: @Sendable () async -> Void

    public init(specs: [PipelineSpec], runner: PipelineRunner, options: Options, logger: Logger,
                onFinished: @escaping @Sendable (PipelineSpec, RunSummary) async -> Void = { _, _ in },
                onTick: @escaping @Sendable () async -> Void = {}) {
        self.specs = Dictionary(specs.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.runner = runner
        self.options = options
        self.logger = logger
        self.onFinished = onFinished
        self.onTick = onTick
    }

    /// Short on purpose: service errors print their service, and specs carry keys.
    public var description: String { "Worker(\(name))" }

    /// This worker's name in the queue and in leases.
    public var name: String { runner.options.holder }

    public func run() async throws {
        logger.info("worker started", metadata: [
            "worker": "\(name)", "pipelines": "\(specs.count)", "concurrency": "\(options.concurrency)",
            "lease_ttl_s": "\(Int(options.leaseTTL))",
        ])
        let running = RunningSet()
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                var lastCheck: Date?
                var repairedOnce = false
                while !Task.isCancelled {
                    let now = Date()
                    do {
                        let stale = repairedOnce ? try await hasStaleRuns(now: now) : true
                        if stale {
                            for note in try await runner.catalog.recover(now: now) { logger.warning("recovered: \(note)") }
                            repairedOnce = true
                        }
                        if options.plan { try await plan(now: now, checkedSince: lastCheck) }
                        lastCheck = now
                        while await running.count < options.concurrency, !Task.isCancelled,
                              let claimed = try await claim(now: Date()) {
                            await running.insert(String(claimed.id))
                            group.addTask {
                                await serve(claimed)
                                await running.remove(String(claimed.id))
                            }
                        }
                        if options.drain, await running.count == 0, try await nothingLeft() {
                            logger.info("queue drained")
                            break
                        }
                    } catch {
                        if Task.isCancelled { break }
                        logger.error("worker round failed", metadata: ["reason": "\(error)"])
                    }
                    await onTick()
                    try? await Task.sleep(for: .milliseconds(Int64(options.tick * 1000)))
                }
            }
        }
        logger.info("worker stopped")
    }

    private func hasStaleRuns(now: Date) async throws -> Bool {
        let store = runner.catalog.store
        let live = Set(try await store.leases().filter { $0.isLive(at: now) }.map(\.name))
        return try await store.runningRuns().contains { !live.contains(PipelineRunner.leaseName($0.pipeline)) }
    }

    /// Enqueues each scheduled pipeline's due firing. The firing is measured from the later of the pipeline's last
    /// run and its last queue entry, so a firing already queued (or being run) is not queued again; its key is the
    /// firing time, identical on every worker, or `initial` for a pipeline that never ran.
    func plan(now: Date, checkedSince: Date?) async throws {
        let store = runner.catalog.store
        for spec in specs.values.sorted(by: { $0.id < $1.id }) where spec.schedule != nil {
            let lastRun = try await store.runs(pipeline: spec.id, limit: 1).first?.startedAt
            let lastQueued = try await store.queuedRuns(pipeline: spec.id, limit: 1).first?.enqueuedAt
            let since = [lastRun, lastQueued].compactMap { $0 }.max()
            guard let firing = spec.dueFiring(now: now, lastRun: since, checkedSince: checkedSince) else { continue }
            let key = since == nil ? "initial" : Timestamp.string(firing)
            if try await store.enqueueRun(pipeline: spec.id, key: key, now: now) {
                logger.info("run queued", metadata: ["pipeline": "\(spec.id)", "key": "\(key)"])
            }
        }
    }

    private func claim(now: Date) async throws -> QueuedRun? {
        try await runner.catalog.store.claimRun(ClaimRequest(
            worker: name, pipelines: specs.keys.sorted(), staleAfter: options.leaseTTL, maxAttempts: options.maxAttempts,
            now: now))
    }

    private func nothingLeft() async throws -> Bool {
        let pending = try await runner.catalog.store.queuedRuns(pipeline: nil, limit: 10_000)
        return !pending.contains { ($0.state == .queued || $0.state == .claimed) && specs[$0.pipeline] != nil }
    }

    /// Runs one claimed entry while heartbeating its claim; a lost claim cancels the run.
    private func serve(_ claimed: QueuedRun) async {
        guard let spec = specs[claimed.pipeline] else { return }
        let store = runner.catalog.store
        var metadata: Logger.Metadata = ["pipeline": "\(spec.id)", "key": "\(claimed.key)", "attempt": "\(claimed.attempts)"]
        if claimed.attempts > 1 {
            metadata["previous_worker"] = "\(claimed.worker ?? "?")"
            logger.warning("taking over a run whose worker stopped heartbeating", metadata: metadata)
            // The dead attempt's run (its pipeline lease has expired with the claim) becomes failed, its draft goes.
            do {
                for note in try await runner.catalog.recover(now: Date()) { logger.warning("recovered: \(note)") }
            } catch {
                logger.error("recovery failed", metadata: ["reason": "\(error)"])
            }
        } else {
            logger.info("run claimed", metadata: metadata)
        }
        let name = self.name, logger = self.logger, runner = self.runner
        let summary = await withHeartbeat(every: options.leaseTTL / 3, beat: {
            // A store that cannot be reached keeps the claim: losing it is for another worker to decide.
            let kept = (try? await store.heartbeatRun(id: claimed.id, worker: name, now: Date())) ?? true
            if !kept { logger.error("lost the claim on a queued run; cancelling it", metadata: ["pipeline": "\(spec.id)"]) }
            return kept
        }, body: { await runner.run(spec) })
        let run = summary.run
        do {
            switch run.status {
            case .skipped:
                // The pipeline is running elsewhere (an operator's `sdata run`, a lease not yet expired): later.
                logger.info("pipeline busy elsewhere; the run goes back to the queue", metadata: ["pipeline": "\(spec.id)"])
                try await store.unclaimRun(id: claimed.id, worker: name)
            case .failed:
                try await store.finishQueuedRun(id: claimed.id, worker: name, state: .failed, runId: run.id,
                                                outcome: "failed: " + (run.error ?? "the run failed"))
            default:
                try await store.finishQueuedRun(id: claimed.id, worker: name, state: .done, runId: run.id,
                                                outcome: run.status.rawValue)
            }
        } catch {
            logger.error("cannot record the end of a queued run", metadata: ["reason": "\(error)"])
        }
        if run.status != .skipped { await onFinished(spec, summary) }
    }
}
