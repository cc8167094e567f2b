import Foundation
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

        public init(dryRun: Bool = false, batchSize: Int = 4096) {
            self.dryRun = dryRun
            self.batchSize = batchSize
        }
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

    /// Runs `spec` once; failures are recorded and returned as a failed summary, not thrown.
    public func run(_ spec: PipelineSpec) async -> RunSummary {
        let startedAt = Date()
        var record = RunRecord(id: RunID.make(at: startedAt), pipeline: spec.id, startedAt: startedAt,
                               specHash: spec.specHash)
        var logger = self.logger
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
            summary = try await execution.perform()
        } catch {
            await execution.cleanUp()
            record = execution.record
            record.status = .failed
            record.error = redactor.redact(PipelineRunner.describe(error))
            summary = RunSummary(run: record)
            logger.error("run failed", metadata: ["reason": "\(record.error ?? "")"])
        }
        summary.run.finishedAt = Date()
        do {
            try await catalog.store.finishRun(summary.run)
        } catch {
            logger.error("cannot record the end of the run", metadata: ["reason": "\(error)"])
        }
        progress.update(spec.id, .done, summary.run.rowsOut)
        if summary.run.status != .failed {
            logger.info("run finished", metadata: ["outcome": "\(summary.run.status.rawValue)",
                                                  "rows_in": "\(summary.run.rowsIn)", "rows_out": "\(summary.run.rowsOut)",
                                                  "version": "\(summary.run.version.map(String.init) ?? "-")"])
        }
        return summary
    }

    /// A full sentence for any error, without values.
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as SourceError: error.message
        case let error as GovernanceError: error.message
        case let error as CatalogError: error.message
        case let error as DiagnosticsError: error.description
        case is CancellationError: "the run was cancelled"
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
