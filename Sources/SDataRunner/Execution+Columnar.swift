import Crypto
import Dispatch
import Foundation
import Logging
import SDataCore
import SDataPluginAPI
import SDataSpec
import SDataGovernance
import SDataCatalog

extension Execution {
    /// Extracts and governs with the columnar engine when the pipeline allows it; `nil` hands the run to the row
    /// engine (the log says why). Everything after governing — gates, audit, publication — is shared.
    mutating func governColumnar() async throws -> Governed? {
        let mode = runner.options.engine
        guard mode != .row else { return nil }
        let file: DelimitedFile
        switch columnarFile() {
        case .success(let found): file = found
        case .failure(let unsupported): return try handOver(unsupported.reason, mode: mode)
        }
        try await prepareStage()
        let progress = runner.progress, id = spec.id
        let cancellation = CancellationFlag()
        let engine = ColumnarEngine(file: file, stagePath: stagePath!, key: stageKey,
                                    lanes: ProcessInfo.processInfo.activeProcessorCount,
                                    chunkSize: runner.options.columnarChunkBytes,
                                    progress: { phase, rows in progress.update(id, phase, rows) },
                                    cancelled: { cancellation.isSet })
        engine.durableStage = !stageIsScratch
        let header: (schema: Schema, dataOffset: Int, headerLines: Int)
        do {
            header = try engine.readHeader()
        } catch let unsupported as ColumnarEngine.Unsupported {
            return try handOver(unsupported.reason, mode: mode)
        }
        let compiled: ColumnarPlan?
        do {
            compiled = try ColumnarPlan.compile(rules: spec.governance.rules, input: header.schema,
                                                classification: spec.governance.classification.rawValue,
                                                piiGate: spec.governance.piiGate, roles: spec.governance.roles,
                                                context: bindingContext)
        } catch {
            throw GovernanceError("\(spec.file): \(error.message)")
        }
        guard let plan = compiled else { return try handOver("a rule has no columnar form", mode: mode) }
        let lanes = (0 ..< engine.lanes).map { _ in ColumnarLane(plan: plan) }
        // The draft opens first: pass 1 formats the rows in its writers' dialects.
        let draft = try catalog.publisher.makeDraft(dataset: spec.publish.dataset, runId: record.id,
                                                    schema: plan.outputSchema)
        self.draft = draft
        var writers: [CSVWriter] = []
        for format in spec.publish.formats {
            switch format {
            case .csv: writers.append(try draft.addCSV(dialect: csvDialect))
            default:
                guard let writer = try draft.add(format.rawValue, dialect: csvDialect) as? CSVWriter else {
                    throw CatalogError("format '\(format.rawValue)' is not delimited text")
                }
                writers.append(writer)
            }
        }
        let dialects = writers.map {
            ColumnarLane.Dialect(delimiter: $0.dialect.delimiter, lineTerminator: $0.dialect.lineTerminator)
        }
        runner.progress.update(spec.id, .extracting, 0)
        let staged: [ColumnarEngine.StagedChunk]
        let started = ContinuousClock.now
        do {
            staged = try await Execution.offload(cancellation) {
                try engine.stage(schema: header.schema, dataOffset: header.dataOffset, headerLines: header.headerLines,
                                 lanes: lanes, dialects: dialects)
            }
        } catch let unsupported as ColumnarEngine.Unsupported {
            catalog.publisher.discard(draft)
            self.draft = nil
            try? FileManager.default.removeItem(atPath: engine.governedPath)
            return try handOver(unsupported.reason, mode: mode)
        }
        record.rowsIn = engine.rowsIn
        let staging = ContinuousClock.now - started
        logger.info("extracted", metadata: ["rows": "\(engine.rowsIn)", "fields": "\(header.schema.count)",
                                            "engine": "columnar", "lanes": "\(lanes.count)",
                                            "seconds": "\(Execution.seconds(staging))"])
        for lane in lanes { lane.releasePassOne() }
        let classes = plan.k.map { ClassCounts(lanes: lanes, k: $0) }
        runner.progress.update(spec.id, .writing, 0)
        nonisolated(unsafe) let outputs = writers
        try await Execution.offload(cancellation) {
            try engine.publish(chunks: staged, lanes: lanes, classes: classes, writers: outputs)
        }
        try draft.finishWriting()
        logger.info("governed", metadata: ["rows_out": "\(lanes.reduce(0) { $0 + $1.rowsOut })",
                                           "seconds": "\(Execution.seconds(ContinuousClock.now - started - staging))"])
        let report = plan.report(lanes: lanes, rowsIn: engine.rowsIn, classes: classes)
        return Governed(report: report, gatePassed: report.piiGate.passed, privacyCost: nil,
                        outputSchema: plan.outputSchema)
    }

    static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return String(format: "%.3f", Double(seconds) + Double(attoseconds) / 1e18)
    }

    /// The delimited file this run can read itself, or why not.
    private func columnarFile() -> Result<DelimitedFile, ColumnarEngine.Unsupported> {
        if spec.schema != nil { return .failure(.init(reason: "the spec declares a schema")) }
        if spec.source.cursor != nil { return .failure(.init(reason: "the source has a cursor")) }
        if let other = spec.publish.formats.first(where: { $0 != .csv && $0 != .csvExcel }) {
            return .failure(.init(reason: "the '\(other.rawValue)' distribution is written from records"))
        }
        guard let source = try? spec.source.plugin.init(options: spec.source.options) as? any DelimitedFileSource,
              let file = source.delimitedFile(context: SourceContext(baseDirectory: spec.directory)) else {
            return .failure(.init(reason: "the source does not read a delimited file"))
        }
        // The engine opens the file twice (header, then records) and maps it: a pipe or a device can be read once
        // only, by the row engine.
        if let type = try? FileManager.default.attributesOfItem(atPath: file.path)[.type] as? FileAttributeType,
           type != .typeRegular {
            return .failure(.init(reason: "the input is not a regular file"))
        }
        return .success(file)
    }

    /// Hands the run to the row engine, or fails when the columnar engine was asked for.
    private func handOver(_ reason: String, mode: PipelineRunner.Engine) throws -> Governed? {
        if mode == .columnar {
            throw GovernanceError("\(spec.file): the columnar engine cannot run this pipeline: \(reason) (use --engine auto)")
        }
        logger.debug("governed by the row engine", metadata: ["reason": "\(reason)"])
        return nil
    }

    /// Runs blocking, CPU-bound work on a thread of its own (it uses every core through Dispatch), not on the
    /// cooperative pool; a cancelled task sets `flag`, which the engine checks between windows.
    static func offload<T>(_ flag: CancellationFlag, _ body: @escaping () throws -> T) async throws -> T {
        nonisolated(unsafe) let body = body
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Handoff<T>, any Error>) in
                DispatchQueue.global().async {
                    continuation.resume(with: Result { Handoff(value: try body()) })
                }
            }.value
        } onCancel: {
            flag.set()
        }
    }
}

/// Moves a result from the worker thread back to the task that waits for it.
struct Handoff<T>: @unchecked Sendable { let value: T }

/// Set once when the run is cancelled (timeout, shutdown).
final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

extension ColumnarEngine: @unchecked Sendable {}
