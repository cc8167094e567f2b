import Foundation
public import Logging
import SDataCatalog
public import SDataRunner
public import SDataSpec
public import ServiceLifecycle

/// Runs pipelines when their schedules fire: the service behind `sdata schedule` and `sdata serve --scheduler`.
///
/// Every `tick` it repairs what dead processes left (runs whose lease expired become failed), then starts each due
/// pipeline that is not already running here, up to `maxConcurrent` at once across every scheduler sharing the
/// catalog (each run holds one of that many slot leases in the store). Several schedulers (on one machine or
/// several sharing the catalog) never run one pipeline twice: a run holds the pipeline's lease in the store, and
/// whether the pipeline is still due is checked again once the lease is held, so a firing another scheduler has just
/// served is not served twice. On graceful shutdown (SIGTERM, SIGINT) running runs are cancelled: each is recorded
/// as failed, publishes nothing and releases its lease.
public struct Scheduler: Service, CustomStringConvertible {
    public struct Options: Sendable {
        /// Seconds between checks of the schedules.
        public var tick: Double
        /// Runs at once, across every scheduler sharing the catalog (slot leases in the store).
        public var maxConcurrent: Int

        public init(tick: Double = 15, maxConcurrent: Int = 2) {
            self.tick = tick
            self.maxConcurrent = max(1, maxConcurrent)
        }
    }

    let specs: [PipelineSpec]
    let runner: PipelineRunner
    let options: Options
    let logger: Logger
    let onFinished: @Sendable (PipelineSpec, RunSummary) async -> Void
    let onTick: @Sendable () async -> Void

    /// - Parameters:
    ///   - onFinished: called after each run (alerts, logs).
    ///   - onTick: called once per tick after the due pipelines were started (staleness checks).
    public init(specs: [PipelineSpec], runner: PipelineRunner, options: Options = Options(), logger: Logger,
                onFinished: @escaping @Sendable (PipelineSpec, RunSummary) async -> Void = { _, _ in },
                onTick: @escaping @Sendable () async -> Void = {}) {
        self.specs = specs.filter { $0.schedule != nil }
        self.runner = runner
        self.options = options
        self.logger = logger
        self.onFinished = onFinished
        self.onTick = onTick
    }

    /// Short on purpose: service errors print their service, and specs carry keys.
    public var description: String { "Scheduler(\(runner.options.holder))" }

    public func run() async throws {
        let catalog = runner.catalog
        logger.info("scheduler started", metadata: [
            "pipelines": "\(specs.map(\.id).joined(separator: ","))", "max_concurrent": "\(options.maxConcurrent)",
            "holder": "\(runner.options.holder)",
        ])
        let running = RunningSet()
        await cancelWhenGracefulShutdown {
            var lastCheck = Date()
            var firstTick = true
            await withDiscardingTaskGroup { group in
                while !Task.isCancelled {
                    let now = Date()
                    do {
                        // The full repair walks every dataset folder: do it at start, then only when a dead
                        // process left a run behind (running, with an expired lease).
                        let live = Set(try await catalog.store.leases().filter { $0.isLive(at: now) }.map(\.name))
                        let stale = try await catalog.store.runningRuns().contains {
                            !live.contains(PipelineRunner.leaseName($0.pipeline))
                        }
                        if firstTick || stale {
                            for note in try await catalog.recover(now: now) { logger.warning("recovered: \(note)") }
                        }
                        firstTick = false
                    } catch {
                        if Task.isCancelled { break }
                        logger.error("recovery failed", metadata: ["reason": "\(error)"])
                    }
                    for spec in specs {
                        guard await running.count < options.maxConcurrent else { break }
                        guard await !running.contains(spec.id) else { continue }
                        let last: Date?
                        do {
                            last = try await catalog.store.runs(pipeline: spec.id, limit: 1).first?.startedAt
                        } catch {
                            if Task.isCancelled { break }
                            logger.error("cannot read run history", metadata: ["pipeline": "\(spec.id)", "reason": "\(error)"])
                            continue
                        }
                        guard let firing = spec.dueFiring(now: now, lastRun: last, checkedSince: lastCheck) else { continue }
                        await running.insert(spec.id)
                        logger.info("pipeline due", metadata: ["pipeline": "\(spec.id)", "firing": "\(Timestamp.string(firing))"])
                        let checkedSince = lastCheck
                        group.addTask {
                            // Checked again under the lease: another scheduler may have served this firing meanwhile.
                            let summary = await runner.run(spec, when: { () async -> Bool in
                                let latest = try? await catalog.store.runs(pipeline: spec.id, limit: 1).first?.startedAt
                                return spec.dueFiring(now: Date(), lastRun: latest, checkedSince: checkedSince) != nil
                            }, slots: options.maxConcurrent)
                            await onFinished(spec, summary)
                            await running.remove(spec.id)
                        }
                    }
                    lastCheck = now
                    await onTick()
                    try? await Task.sleep(for: .milliseconds(Int64(options.tick * 1000)))
                }
            }
        }
        logger.info("scheduler stopped")
    }
}

/// The pipelines this scheduler is running now.
actor RunningSet {
    private var ids: Set<String> = []
    var count: Int { ids.count }
    func contains(_ id: String) -> Bool { ids.contains(id) }
    func insert(_ id: String) { ids.insert(id) }
    func remove(_ id: String) { ids.remove(id) }
}
