import Crypto
import Foundation
import Logging
import SDataCore
import SDataPluginAPI
import SDataSpec
import SDataGovernance
import SDataCatalog

/// The state of one run in progress.
struct Execution {
    let spec: PipelineSpec
    let runner: PipelineRunner
    var record: RunRecord
    let logger: Logger
    var stagePath: String?
    var draft: VersionDraft?
    private var cursorMaximum: Value?
    /// What the source saved for its next run (tap state, HTTP validators); stored once the version is published.
    private var sourceState: String?
    /// The run's raw-extract key, kept in the store; destroying it destroys the stage.
    let stageKey = SymmetricKey(size: .bits256)

    init(spec: PipelineSpec, runner: PipelineRunner, record: RunRecord, logger: Logger) {
        self.spec = spec
        self.runner = runner
        self.record = record
        self.logger = logger
    }

    var catalog: Catalog { runner.catalog }
    private var batchSize: Int { runner.options.batchSize }

    /// What governing produced, whichever engine did it.
    struct Governed {
        var report: GovernanceReport
        var gatePassed: Bool
        var privacyCost: (epsilon: Double, budget: Double?)?
        var outputSchema: Schema
    }

    mutating func perform() async throws -> RunSummary {
        let fetchedAt = Date()
        let governed: Governed
        if let columnar = try await governColumnar() {
            governed = columnar
        } else {
            let stageSchema: Schema
            do {
                stageSchema = try await extract()
            } catch let unchanged as SourceUnchanged {
                // Nothing new at the source: no stage, no version, the previous state stays.
                await destroyStage(reason: "source unchanged")
                record.status = .unchanged
                logger.info("source unchanged", metadata: ["reason": "\(unchanged.reason)"])
                let latest = try await catalog.store.latestVersion(dataset: spec.publish.dataset)
                record.version = latest?.number
                return RunSummary(run: record,
                                  versionPath: latest.map { catalog.versionPath(dataset: $0.dataset, version: $0.number) },
                                  distributions: latest?.distributions ?? [], notes: [unchanged.reason])
            }
            let plan: GovernancePlan
            do {
                plan = try GovernancePlan(rules: spec.governance.rules, input: stageSchema,
                                          classification: spec.governance.classification.rawValue,
                                          piiGate: spec.governance.piiGate, roles: spec.governance.roles,
                                          context: bindingContext)
            } catch {
                throw GovernanceError("\(spec.file): \(error.message)")
            }
            let stage = StageReader(path: stagePath!, schema: stageSchema, batchSize: batchSize, key: stageKey)
            runner.progress.update(spec.id, .governing, 0)
            for pass in 0..<plan.observationPasses {
                try await Pipelining.forEachBatch(of: stage.reading(plan.inputPositions(forPass: pass))) { batch in
                    try plan.observe(batch, pass: pass)
                }
                plan.finishPass(pass)
            }
            try await write(stage.reading(plan.inputPositions(forPass: plan.observationPasses)), through: plan)
            governed = Governed(report: plan.report, gatePassed: plan.gatePassed, privacyCost: plan.privacyCost,
                                outputSchema: plan.outputSchema)
        }
        let plan = governed
        var report = plan.report
        record.rowsOut = report.rowsOut
        record.rowsSuppressed = report.rowsSuppressed
        var notes: [String] = []
        try await catalog.store.appendAudit(kind: plan.gatePassed ? "gates.passed" : "gates.failed", subject: spec.id,
                                            detail: "run \(record.id): " + Execution.gateSummary(report))
        if !report.piiGate.findings.isEmpty {
            let fields = report.piiGate.findings.map { "\($0.key) (\($0.value))" }.sorted().joined(separator: ", ")
            guard plan.gatePassed else {
                throw GovernanceError("the PII gate blocked publication: values that look like personal data remain in "
                                      + "\(fields); add a rule (redact, drop, pseudonymize) for these fields")
            }
            notes.append("PII gate warning: values that look like personal data remain in \(fields)")
            logger.warning("PII gate findings", metadata: ["findings": "\(fields)"])
        }
        if let cost = plan.privacyCost {
            // Checked now to fail early; charged in the transaction that commits the version.
            let spent = try await catalog.store.privacySpent(dataset: spec.publish.dataset) + cost.epsilon
            if let budget = cost.budget, spent > budget + 1e-9, !runner.options.dryRun {
                throw CatalogError("privacy budget exhausted for '\(spec.publish.dataset)': this release needs ε = "
                                   + "\(cost.epsilon) and would bring the total to \(spent) of \(budget); nothing was published")
            }
            report.privacy = .init(mechanism: "laplace", epsilon: cost.epsilon, spent: spent, budget: cost.budget,
                                   remaining: cost.budget.map { max(0, $0 - spent) })
        }
        let reportData = try JSONEncoder.sorted.encode(report)
        guard let draft else { throw CatalogError("no draft was written") }

        if runner.options.dryRun {
            let distributions = draft.distributions
            runner.catalog.publisher.discard(draft)
            self.draft = nil
            await destroyStage(reason: "dry run")
            record.status = .dryRun
            return RunSummary(run: record, distributions: distributions, notes: notes)
        }
        runner.progress.update(spec.id, .publishing, record.rowsOut)
        var request = PublicationRequest(
            dataset: spec.publish.dataset, title: spec.publish.title ?? spec.title,
            description: spec.publish.description ?? spec.description, license: spec.publish.license,
            keywords: spec.publish.keywords, theme: spec.publish.theme,
            primaryKey: (spec.schema?.primaryKey ?? []).filter { plan.outputSchema.index(of: $0) != nil },
            rowCount: record.rowsOut,
            lineage: Lineage(runId: record.id, pipeline: spec.id, specHash: spec.specHash,
                             plugin: spec.source.plugin.descriptor.id, fetchedAt: fetchedAt, rowsExtracted: record.rowsIn),
            governanceReport: reportData)
        request.privacyCharge = plan.privacyCost.map { PrivacyCharge(epsilon: $0.epsilon, budget: $0.budget) }
        let outcome = try await catalog.publisher.publish(draft, request: request, dialect: csvDialect)
        self.draft = nil
        let version: VersionRecord
        switch outcome {
        case .published(let published):
            record.status = .published
            version = published
            // The version is committed: the pages are derived from the store and are rendered again by the next
            // publication, so a failure here is logged, not turned into a failed run of a published version.
            do {
                try await catalog.renderSite()
            } catch {
                logger.error("published, but the site pages could not be rendered", metadata: ["reason": "\(error)"])
            }
        case .unchanged(let latest):
            record.status = .unchanged
            version = latest
        }
        record.version = version.number
        if let cursor = spec.source.cursor, let maximum = cursorMaximum {
            // Saved only now: the version this bookmark fed is published.
            try await catalog.store.setBookmark(maximum.text, pipeline: spec.id)
            logger.debug("bookmark saved", metadata: ["cursor": "\(cursor)"])
        }
        if let sourceState {
            try await catalog.store.setBookmark(sourceState, pipeline: Execution.stateKey(spec.id))
            logger.debug("source state saved")
        }
        if stageIsScratch {
            await destroyStage(reason: "raw retention 0: destroyed when the run ended")
        }
        return RunSummary(run: record, versionPath: catalog.versionPath(dataset: version.dataset, version: version.number),
                          distributions: version.distributions, notes: notes)
    }

    var csvDialect: CSVWriter.Dialect {
        let csv = spec.publish.csv
        return CSVWriter.Dialect(delimiter: csv.delimiter, lineTerminator: csv.lineTerminator, header: csv.header,
                                 byteOrderMark: csv.byteOrderMark)
    }

    /// Whether the raw extract is destroyed when the run ends (raw retention 0, or a sensitive pipeline without one).
    var stageIsScratch: Bool {
        spec.governance.retention.rawSeconds == 0
            || (spec.governance.classification == .sensitive && spec.governance.retention.rawSeconds == nil)
    }

    var bindingContext: BindingContext {
        BindingContext(runId: record.id, pipeline: spec.id, now: Execution.utc(record.startedAt))
    }

    /// Creates the run's raw folder and stores the stage's key (once: a columnar attempt may hand over to the rows).
    mutating func prepareStage() async throws {
        guard stagePath == nil else { return }
        let directory = catalog.layout.rawRunDirectory(record.id)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        try await catalog.store.storeRawKey(stageKey.withUnsafeBytes { Array($0) }, runId: record.id, pipeline: spec.id)
        stagePath = directory + "/extract.stage"
    }

    /// Pulls every batch from the source into the stage; returns the stage's schema.
    private mutating func extract() async throws -> Schema {
        try await prepareStage()
        let directory = catalog.layout.rawRunDirectory(record.id)
        let stage = try StageWriter(path: stagePath!, key: stageKey)
        let source = try spec.source.plugin.init(options: spec.source.options)
        let bookmark = try await catalog.store.bookmark(pipeline: spec.id)
        // A dry run reads everything: it does not ask "changed since?".
        let state = runner.options.dryRun ? nil : try await catalog.store.bookmark(pipeline: Execution.stateKey(spec.id))
        let scratch = directory + "/downloads"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let redactor = runner.redactor
        let pluginLogger = logger
        let progress = runner.progress
        let pipeline = spec.id
        let context = SourceContext(baseDirectory: spec.directory, batchSize: batchSize, bookmark: bookmark,
                                    state: state, http: spec.source.http, scratchDirectory: scratch,
                                    logger: SourceLogger { level, message in
                                        let text = redactor.redact(message)
                                        switch level {
                                        case .debug: pluginLogger.debug("\(text)")
                                        case .info: pluginLogger.info("\(text)")
                                        case .warning: pluginLogger.warning("\(text)")
                                        }
                                    }, pipeline: pipeline, onRequest: { progress.request(pipeline) })
        var coercion = SchemaCoercion(spec.schema)
        let stream = RecordStream()
        runner.progress.update(spec.id, .extracting, 0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await stream.feed(from: source, context: context) }
            for try await batch in stream {
                let typed = try coercion.apply(batch)
                try stage.append(typed)
                trackCursor(typed)
                record.rowsIn = stage.records
                runner.progress.update(spec.id, .extracting, stage.records)
            }
            // A cancelled stream ends quietly: never take what arrived so far for the whole source.
            try Task.checkCancellation()
            try await group.waitForAll()
        }
        try stage.finish()
        sourceState = context.savedState
        logger.info("extracted", metadata: ["rows": "\(stage.records)", "fields": "\(stage.schema.count)"])
        return stage.schema
    }

    /// Where a pipeline's source state is kept: beside its cursor bookmark, under its own key.
    static func stateKey(_ pipeline: String) -> String { pipeline + "#source-state" }

    private mutating func trackCursor(_ batch: RecordBatch) {
        guard let cursor = spec.source.cursor, let index = batch.schema.index(of: cursor) else { return }
        for record in batch.records where !record[index].isNull {
            if let current = cursorMaximum, !Execution.isGreater(record[index], than: current) { continue }
            cursorMaximum = record[index]
        }
    }

    /// The gates' results in one line of counts, for the audit log.
    static func gateSummary(_ report: GovernanceReport) -> String {
        var parts = ["rows_in=\(report.rowsIn)", "rows_out=\(report.rowsOut)"]
        for rule in report.rules {
            guard let details = rule.details else { continue }
            let values = details.keys.sorted().map { "\($0)=\(details[$0]!)" }.joined(separator: ",")
            parts.append("\(rule.rule)[\(values)]")
        }
        let findings = report.piiGate.findings.values.reduce(0, +)
        parts.append("pii_gate=\(report.piiGate.mode.rawValue):\(report.piiGate.passed ? "passed" : "blocked"):\(findings)")
        return parts.joined(separator: " ")
    }

    /// A run's start as a UTC datetime, the "now" of time-based rules.
    static func utc(_ date: Date) -> DateTime? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        guard let day = LocalDate(year: parts.year!, month: parts.month!, day: parts.day!) else { return nil }
        return DateTime(date: day, hour: parts.hour!, minute: parts.minute!, second: parts.second!, offsetSeconds: 0)
    }

    static func isGreater(_ lhs: Value, than rhs: Value) -> Bool {
        if let left = lhs.doubleValue, let right = rhs.doubleValue { return left > right }
        return lhs.text > rhs.text
    }

    /// Governs the stage into the draft's writers.
    private mutating func write(_ stage: StageReader, through plan: GovernancePlan) async throws {
        let draft = try catalog.publisher.makeDraft(dataset: spec.publish.dataset, runId: record.id,
                                                    schema: plan.outputSchema)
        self.draft = draft
        var writers: [any FormatWriter] = []
        for format in spec.publish.formats {
            switch format {
            case .csv: writers.append(try draft.addCSV(dialect: csvDialect))
            case .json: writers.append(try draft.addJSON())
            case .jsonl, .geojson, .parquet, .xlsx, .csvExcel: writers.append(try draft.add(format.rawValue, dialect: csvDialect))
            }
        }
        runner.progress.update(spec.id, .writing, 0)
        var written = 0
        let writing = Pipelining.WriterTask(writers)
        let progress = runner.progress, id = spec.id
        do {
            try await Pipelining.forEachBatch(of: stage) { batch in
                let governed = try plan.govern(batch)
                await writing.send(governed)
                written += governed.count
                progress.update(id, .writing, written)
            }
            if let aggregated = try plan.finish() { await writing.send(aggregated) }
            try await writing.finish()
        } catch {
            await writing.abandon()
            throw error
        }
        try draft.finishWriting()
    }

    /// Deletes whatever the run left behind after a failure.
    /// Works from the run id alone, so that it also cleans up after a copy of this execution that was cancelled.
    mutating func cleanUp() async {
        if let draft { catalog.publisher.discard(draft) }
        draft = nil
        try? FileManager.default.removeItem(atPath: catalog.layout.draftsDirectory + "/" + record.id)
        await destroyStage(reason: "run failed")
    }

    /// Crypto-shreds the stage: the key first (committed), then the file. A crash in between leaves ciphertext
    /// nobody can read, which the next retention pass deletes.
    private mutating func destroyStage(reason: String) async {
        if (try? await catalog.store.rawKey(runId: record.id)) != nil {
            do {
                try await catalog.store.destroyRawKey(runId: record.id, reason: reason)
            } catch {
                logger.error("cannot destroy the raw extract's key", metadata: ["reason": "\(error)"])
            }
        }
        try? FileManager.default.removeItem(atPath: catalog.layout.rawRunDirectory(record.id))
        stagePath = nil
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

/// An execution moves between tasks (the run, its timeout, the uncancelled clean-up) but is used by one task at a time:
/// each hand-over passes a copy and the previous holder stops using it.
extension Execution: @unchecked Sendable {}
