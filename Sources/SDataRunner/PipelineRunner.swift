import Foundation
import Metrics
public import Logging
public import SDataCore
import SDataPluginAPI
public import SDataSpec
import SDataGovernance
public import SDataCatalog

/// Runs a pipeline: extract → stage → govern → write → publish.
///
/// Nothing becomes visible before every step succeeded: distributions are written into a draft outside `public/`,
/// the PII gate is checked, and only then is the draft renamed into place and committed. Any failure records the run
/// as failed with a message naming what and where (never a value or a secret), deletes the draft and leaves every
/// published version as it was.
public struct PipelineRunner: Sendable {
    public struct Options: Sendable {
        public var dryRun: Bool
        public var batchSize: Int
        /// Replaces the spec's retry delay (tests).
        public var retryDelayOverride: Double?
        /// Who runs pipelines here, in the store's leases: host, process and a random part.
        public var holder: String
        /// How long a pipeline's lease lasts without a heartbeat (renewed every third of it). A process that dies
        /// mid-run loses its lease after this long, and another may take the pipeline over.
        public var leaseTTL: Double
        /// Which engine governs: the columnar one where the pipeline allows it (`auto`), always the row engine, or
        /// the columnar one or an error saying why not.
        public var engine: Engine
        /// The columnar engine's chunk size in bytes (tests use small chunks to cross many chunk boundaries).
        public var columnarChunkBytes: Int

        public init(dryRun: Bool = false, batchSize: Int = 4096, retryDelayOverride: Double? = nil,
                    holder: String = PipelineRunner.defaultHolder, leaseTTL: Double = 60, engine: Engine = .auto,
                    columnarChunkBytes: Int = 1 << 19) {
            self.engine = engine
            self.columnarChunkBytes = max(64, columnarChunkBytes)
            self.dryRun = dryRun
            self.batchSize = batchSize
            self.retryDelayOverride = retryDelayOverride
            self.holder = holder
            self.leaseTTL = leaseTTL
        }
    }

    /// The two ways a run is governed (docs/performance.md): a delimited file in byte-level chunks on every core, or
    /// record batches of typed values, which every source and rule supports.
    public enum Engine: String, Sendable, CaseIterable {
        case auto, row, columnar
    }

    public let catalog: Catalog
    public let redactor: SecretRedactor
    public let logger: Logger
    public let progress: RunProgress
    public let options: Options

    public init(catalog: Catalog, redactor: SecretRedactor, logger: Logger, progress: RunProgress = .silent,
                options: Options = Options()) {
        self.catalog = catalog
        self.redactor = redactor
        self.logger = logger
        self.progress = progress
        self.options = options
    }

    /// `host:pid:random`, unique per process.
    public static let defaultHolder: String = {
        let host = ProcessInfo.processInfo.hostName
        return "\(host):\(getpid()):\(UInt32.random(in: 0...UInt32.max))"
    }()

    /// The store lease that keeps two processes from running one pipeline at once.
    public static func leaseName(_ pipeline: String) -> String { "pipeline:" + pipeline }

    /// Runs `spec` while holding its lease in the store, so that no other process (another scheduler, an operator's
    /// `sdata run`, a worker) runs it at the same time; returns a `skipped` summary when another holder has it. The
    /// lease is renewed every third of its lifetime; if it is lost anyway (this process stalled past it and another
    /// took over), the run is cancelled, so it can never publish beside its successor.
    public func run(_ spec: PipelineSpec) async -> RunSummary {
        await run(spec, when: nil)
    }

    /// Like ``run(_:)``, but once the lease is held, runs only if `condition` still holds (a scheduler re-checks that
    /// the pipeline is due: another process may have served the firing meanwhile); otherwise returns `skipped`.
    ///
    /// With `slots`, the run also needs one of that many slot leases (`slot:0`…): a concurrency limit that holds
    /// across every process sharing the catalog. When all are taken the run is `skipped` and nothing is recorded.
    public func run(_ spec: PipelineSpec, when condition: (@Sendable () async -> Bool)?, slots: Int? = nil) async -> RunSummary {
        let store = catalog.store
        let name = PipelineRunner.leaseName(spec.id)
        let holder = options.holder
        let ttl = options.leaseTTL
        var slot: String?
        if let slots {
            for index in 0..<max(1, slots) where slot == nil {
                if (try? await store.acquireLease("slot:\(index)", holder: holder + "/" + spec.id, ttl: ttl, now: Date())) == true {
                    slot = "slot:\(index)"
                }
            }
            guard slot != nil else {
                var record = RunRecord(id: "-", pipeline: spec.id, startedAt: Date(), specHash: spec.specHash)
                record.status = .skipped
                record.error = "the concurrency limit (\(slots) runs at once across all schedulers) is reached"
                return RunSummary(run: record)
            }
        }
        let slotHolder = holder + "/" + spec.id
        func releaseSlot() async {
            if let slot { try? await store.releaseLease(slot, holder: slotHolder) }
        }
        do {
            guard try await store.acquireLease(name, holder: holder, ttl: ttl, now: Date()) else {
                await releaseSlot()
                let current = try await store.leases().first { $0.name == name }
                var record = RunRecord(id: "-", pipeline: spec.id, startedAt: Date(), specHash: spec.specHash)
                record.status = .skipped
                record.error = "already running in another process (\(current?.holder ?? "unknown"), since "
                    + "\(current.map { Timestamp.string($0.acquiredAt) } ?? "?"))"
                return RunSummary(run: record)
            }
        } catch {
            await releaseSlot()
            var record = RunRecord(id: "-", pipeline: spec.id, startedAt: Date(), specHash: spec.specHash)
            record.status = .failed
            record.error = "cannot take the pipeline's lease in the catalog store: \(error)"
            return RunSummary(run: record)
        }
        if let condition, await !condition() {
            await releaseSlot()
            try? await store.releaseLease(name, holder: holder)
            var record = RunRecord(id: "-", pipeline: spec.id, startedAt: Date(), specHash: spec.specHash)
            record.status = .skipped
            record.error = "no longer due: another process has just run it"
            return RunSummary(run: record)
        }
        let heldSlot = slot
        let logger = self.logger
        let summary = await withHeartbeat(every: ttl / 3, beat: {
            var renewed = (try? await store.renewLease(name, holder: holder, ttl: ttl, now: Date())) ?? false
            if let heldSlot, renewed {
                renewed = (try? await store.renewLease(heldSlot, holder: slotHolder, ttl: ttl, now: Date())) ?? false
            }
            if !renewed { logger.error("lost the pipeline's lease; cancelling the run", metadata: ["pipeline": "\(spec.id)"]) }
            return renewed
        }, body: { await self.runAttempts(spec) })
        try? await store.releaseLease(name, holder: holder)
        await releaseSlot()
        return summary
    }

    /// The attempts of one run: the first, then `retries` more after failures with a doubling delay; each attempt is
    /// its own run record. Failures are recorded and returned as a failed summary, not thrown.
    private func runAttempts(_ spec: PipelineSpec) async -> RunSummary {
        var attempt = 0
        while true {
            let summary = await runOnce(spec)
            guard summary.run.status == .failed, attempt < spec.operations.retries, !Task.isCancelled else {
                return summary
            }
            attempt += 1
            let delay = options.retryDelayOverride ?? Double(spec.operations.retryDelay) * pow(2, Double(attempt - 1))
            logger.warning("run failed; retrying", metadata: ["pipeline": "\(spec.id)", "attempt": "\(attempt + 1)",
                                                              "delay_s": "\(Int(delay))"])
            try? await Task.sleep(for: .seconds(delay))
        }
    }

    /// One attempt, cancelled after the spec's `timeout`.
    private func runOnce(_ spec: PipelineSpec) async -> RunSummary {
        let startedAt = Date()
        var record = RunRecord(id: RunID.make(at: startedAt), pipeline: spec.id, startedAt: startedAt,
                               specHash: spec.specHash)
        let logFile = RunLogFile(path: catalog.layout.logFile(record.id), redactor: redactor)
        let base = self.logger
        var logger = Logger(label: base.label) { _ in RunLogHandler(base: base, file: logFile) }
        logger[metadataKey: "pipeline"] = "\(spec.id)"
        logger[metadataKey: "run"] = "\(record.id)"
        do {
            try await catalog.store.beginRun(record)
        } catch {
            record.status = .failed
            record.error = "cannot record the run in the catalog store: \(error)"
            return RunSummary(run: record)
        }
        logger.info("run started", metadata: ["plugin": "\(spec.source.plugin.descriptor.id)"])
        var execution = Execution(spec: spec, runner: self, record: record, logger: logger)
        var summary: RunSummary
        do {
            summary = try await PipelineRunner.withTimeout(spec.operations.timeout) { [execution] in
                var attempt = execution
                return try await attempt.perform()
            }
        } catch {
            // Clean-up and bookkeeping must happen even when the run was cancelled (a signal, a timeout): do them in
            // a task that does not inherit the cancellation.
            let failed = execution
            execution = await Task.detached {
                var cleaning = failed
                await cleaning.cleanUp()
                return cleaning
            }.value
            record = execution.record
            record.status = .failed
            record.error = redactor.redact(PipelineRunner.describe(error))
            summary = RunSummary(run: record)
            logger.error("run failed", metadata: ["reason": "\(record.error ?? "")"])
        }
        summary.run.finishedAt = Date()
        do {
            let finished = summary.run
            let store = catalog.store
            try await Task.detached { try await store.finishRun(finished) }.value
        } catch {
            logger.error("cannot record the end of the run", metadata: ["reason": "\(error)"])
        }
        progress.update(spec.id, .done, summary.run.rowsOut)
        RunMetrics.record(summary.run)
        if summary.run.status != .failed {
            logger.info("run finished", metadata: ["outcome": "\(summary.run.status.rawValue)",
                                                  "rows_in": "\(summary.run.rowsIn)", "rows_out": "\(summary.run.rowsOut)",
                                                  "version": "\(summary.run.version.map(String.init) ?? "-")"])
        }
        return summary
    }

    /// Runs `body`, cancelling it after `seconds` (nil: no limit) and throwing ``RunTimeout``.
    static func withTimeout(_ seconds: Int?, _ body: @escaping @Sendable () async throws -> RunSummary) async throws
        -> RunSummary {
        guard let seconds else { return try await body() }
        return try await withThrowingTaskGroup(of: RunSummary?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let summary = first else {
                throw RunTimeout(seconds: seconds)
            }
            return summary
        }
    }

    /// A full sentence for any error, without values.
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as SourceError: error.message
        case let error as GovernanceError: error.message
        case let error as CatalogError: error.message
        case let error as DiagnosticsError: error.description
        case let error as RunTimeout: "the run took longer than its timeout of \(error.seconds) s and was stopped; nothing was published"
        case is CancellationError: "the run was stopped before it finished (cancelled); nothing was published"
        default: "\(error)"
        }
    }
}

/// Run identifiers sort by start time: `20261124T223600Z-1a2b3c`.
enum RunID {
    static func make(at date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let stamp = String(format: "%04d%02d%02dT%02d%02d%02dZ", parts.year!, parts.month!, parts.day!, parts.hour!,
                           parts.minute!, parts.second!)
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        return stamp + "-" + String(repeating: "0", count: 8 - suffix.count) + suffix
    }
}

/// A run stopped by its `timeout`.
struct RunTimeout: Error {
    let seconds: Int
}

/// What every finished run adds to the metrics (exported by `sdata serve` and `sdata schedule` at `/metrics`).
public enum RunMetrics {
    public static func record(_ run: RunRecord) {
        let pipeline = [("pipeline", run.pipeline)]
        Counter(label: "sdata_runs_total", dimensions: pipeline + [("outcome", run.status.rawValue)]).increment()
        if let finished = run.finishedAt {
            Timer(label: "sdata_run_duration_seconds", dimensions: pipeline, preferredDisplayUnit: .seconds)
                .recordNanoseconds(Int64(max(0, finished.timeIntervalSince(run.startedAt)) * 1e9))
        }
        for (kind, count) in [("in", run.rowsIn), ("out", run.rowsOut), ("suppressed", run.rowsSuppressed)] {
            Counter(label: "sdata_rows_total", dimensions: pipeline + [("kind", kind)]).increment(by: count)
        }
        if run.status == .published || run.status == .unchanged {
            Gauge(label: "sdata_last_success_timestamp_seconds", dimensions: pipeline)
                .record((run.finishedAt ?? Date()).timeIntervalSince1970)
        }
    }

    /// The last success of each pipeline from the store, so that a restarted process reports it before its first run.
    public static func seedLastSuccess(_ runs: [RunRecord]) {
        for run in runs where run.status == .published || run.status == .unchanged {
            Gauge(label: "sdata_last_success_timestamp_seconds", dimensions: [("pipeline", run.pipeline)])
                .record((run.finishedAt ?? run.startedAt).timeIntervalSince1970)
        }
    }
}
