public import SDataCore

/// A pipeline's rules bound to the schema of its staged data, ready to stream.
///
/// Record rules run batch by batch; each dataset rule (k-anonymity) needs one observation pass over the stage before
/// the final pass. The runner drives it:
/// ```
/// for pass in 0..<plan.observationPasses { for batch in stage { plan.observe(batch, pass: pass) } }
/// for batch in stage { writer.write(try plan.govern(batch)) }
/// ```
public final class GovernancePlan {
    private enum Stage {
        case record(any RecordStep)
        case dataset(any DatasetStep)
        case aggregate(any AggregateStep)
    }

    private let rules: [any GovernanceRule]
    private let stages: [Stage]
    public let inputSchema: Schema
    public let outputSchema: Schema
    public let classification: String
    public let gateMode: PIIGateMode
    private let scanner = PIIScanner()
    /// Fields holding pseudonyms: keyed hex digests, not personal data, so the PII gate does not scan them (a hex
    /// digest may contain a run of digits that looks like a phone number).
    private let unscanned: Set<String>
    public let roles: [String: FieldRole]
    private var rowsIn = 0
    private var rowsOut = 0
    /// Records that passed every filter (for an aggregating plan, those aggregated).
    private var rowsKept = 0

    /// Binds `rules` to `input`. With `roles`, checks the output's classification first (see ``FieldRole``); in a
    /// `sensitive` pipeline every output field needs a role.
    public init(rules: [any GovernanceRule], input: Schema, classification: String = "public",
                piiGate: PIIGateMode = .off, roles: [String: FieldRole] = [:],
                context: BindingContext = BindingContext()) throws(GovernanceError) {
        var schema = input
        var stages: [Stage] = []
        for rule in rules {
            switch try rule.bind(to: schema, context: context) {
            case .record(let step):
                stages.append(.record(step))
                schema = step.outputSchema
            case .dataset(let step):
                stages.append(.dataset(step))
            case .aggregate(let step):
                guard stages.count == rules.count - 1 else {
                    throw GovernanceError("rule '\(type(of: rule).name)' must be the last rule: it replaces records "
                                          + "with aggregate rows")
                }
                stages.append(.aggregate(step))
                schema = step.outputSchema
            }
        }
        self.rules = rules
        self.stages = stages
        unscanned = FieldTrace.outputNames(rules) { $0 is PseudonymizeRule }
        self.roles = roles
        let problems = RoleCheck.problems(roles: roles, sensitive: classification == "sensitive", rules: rules,
                                          output: schema)
        if !problems.isEmpty { throw GovernanceError(problems.joined(separator: "; ")) }
        inputSchema = input
        outputSchema = schema
        self.classification = classification
        gateMode = piiGate
    }

    /// How many times the stage must be read before ``govern(_:)``: one per dataset rule.
    public var observationPasses: Int {
        stages.reduce(0) { count, stage in if case .dataset = stage { count + 1 } else { count } }
    }

    /// Which stages pass `pass` must run: those that can drop records or that feed the fields its dataset rule
    /// reads (a pseudonym or a redaction the rule never looks at is skipped). Computed backwards from the rule.
    private func neededStages(forPass pass: Int) -> [Bool] {
        var needed = Array(repeating: false, count: stages.count)
        var datasetIndex = -1
        guard let target = stages.indices.first(where: { index in
            if case .dataset = stages[index] { datasetIndex += 1 }
            return datasetIndex == pass
        }), case .dataset(let targetStep) = stages[target] else { return Array(repeating: true, count: stages.count) }
        needed[target] = true
        var fields = targetStep.readPositions
        for index in stride(from: target - 1, through: 0, by: -1) {
            switch stages[index] {
            case .record(let step):
                if let projection = step as? Projection {
                    needed[index] = true
                    fields = Set(fields.map { projection.positions[$0] })
                } else if let rewritten = step.rewrittenPositions {
                    needed[index] = step.mayDropRecords || !rewritten.isDisjoint(with: fields)
                    // A step computes each rewritten field from the fields it rewrites: those become needed too.
                    if needed[index] { fields.formUnion(rewritten) }
                } else {
                    return Array(repeating: true, count: stages.count)
                }
            case .dataset(let step):
                needed[index] = true
                fields.formUnion(step.readPositions)
            case .aggregate:
                needed[index] = true
            }
        }
        return needed
    }

    private var neededCache: [Int: [Bool]] = [:]

    /// The input positions pass `pass` reads (an observation pass, or the final pass when `pass` is
    /// ``observationPasses``): what its rules read and, in the final pass, what the output holds. `nil` when that cannot
    /// be told (a rule that moves or aggregates fields): every position. The runner decodes only these from the stage;
    /// the others arrive as nulls nobody looks at.
    public func inputPositions(forPass pass: Int) -> Set<Int>? {
        let needed: [Bool]
        var fields: Set<Int>
        var last = stages.count - 1
        if pass < observationPasses {
            needed = neededCache[pass] ?? neededStages(forPass: pass)
            var datasetIndex = -1
            guard let target = stages.indices.first(where: { index in
                if case .dataset = stages[index] { datasetIndex += 1 }
                return datasetIndex == pass
            }), case .dataset(let step) = stages[target] else { return nil }
            fields = step.readPositions
            last = target - 1
        } else {
            needed = Array(repeating: true, count: stages.count)
            fields = Set(outputSchema.fields.indices)
        }
        guard last >= 0 else { return fields }
        for index in stride(from: last, through: 0, by: -1) where needed[index] {
            switch stages[index] {
            case .record(let step):
                if let projection = step as? Projection {
                    fields = Set(fields.map { projection.positions[$0] })
                } else if let rewritten = step.rewrittenPositions {
                    // Each rewritten field is computed from itself; the step runs (and counts) on all of them.
                    fields.formUnion(rewritten)
                } else {
                    return nil
                }
            case .dataset(let step):
                fields.formUnion(step.readPositions)
            case .aggregate:
                return nil
            }
        }
        return fields
    }

    /// Feeds one batch to the dataset rule of pass `pass`, applying the rules before it that it needs.
    public func observe(_ batch: RecordBatch, pass: Int) throws(GovernanceError) {
        let needed = neededCache[pass] ?? neededStages(forPass: pass)
        neededCache[pass] = needed
        records: for var record in batch.records {
            var datasetIndex = 0
            for (index, stage) in stages.enumerated() {
                switch stage {
                case .record(let step):
                    guard needed[index] else { continue }
                    if try !step.apply(&record) { continue records }
                case .dataset(let step):
                    if datasetIndex == pass {
                        step.observe(record)
                        continue records
                    }
                    datasetIndex += 1
                    if try !step.apply(&record) { continue records }
                case .aggregate:
                    continue records
                }
            }
        }
    }

    /// Ends pass `pass`; statistics restart so that the report counts the final pass only.
    public func finishPass(_ pass: Int) {
        var datasetIndex = 0
        for stage in stages {
            switch stage {
            case .record(let step):
                step.stats = RuleStats()
            case .dataset(let step):
                if datasetIndex == pass { step.finishObserving() }
                step.stats = RuleStats()
                datasetIndex += 1
            case .aggregate:
                break
            }
        }
    }

    /// Applies every rule to `batch` and scans the result for personal data.
    public func govern(_ batch: RecordBatch) throws(GovernanceError) -> GovernedBatch {
        guard batch.schema == inputSchema else {
            throw GovernanceError("the data's fields changed while it was being governed")
        }
        var output: [Record] = []
        output.reserveCapacity(batch.count)
        rowsIn += batch.count
        records: for var record in batch.records {
            for stage in stages {
                switch stage {
                case .record(let step):
                    if try !step.apply(&record) { step.stats.rowsDropped += 1; continue records }
                case .dataset(let step):
                    if try !step.apply(&record) { continue records }
                case .aggregate(let step):
                    rowsKept += 1
                    step.accumulate(record)
                    continue records
                }
            }
            if gateMode != .off, scan(record), gateMode == .suppress {
                gateSuppressed += 1
                continue records
            }
            rowsKept += 1
            output.append(record)
        }
        rowsOut += output.count
        return GovernedBatch(schema: outputSchema, records: output)
    }

    /// The aggregate rows, when the last rule aggregates; call once after the last ``govern(_:)``.
    public func finish() throws(GovernanceError) -> GovernedBatch? {
        guard let last = stages.last, case .aggregate(let step) = last else { return nil }
        let rows = try step.finish()
        if gateMode != .off { for row in rows { scan(row) } }
        rowsOut += rows.count
        return GovernedBatch(schema: outputSchema, records: rows)
    }

    /// The privacy loss one release costs, and the dataset's budget, when the plan adds noise.
    public var privacyCost: (epsilon: Double, budget: Double?)? {
        guard let last = stages.last, case .aggregate(let step) = last, let epsilon = step.epsilon else { return nil }
        return (epsilon, step.budget)
    }

    /// Scans a record's text values; returns whether anything was found.
    @discardableResult
    private func scan(_ record: Record) -> Bool {
        var found = false
        for (index, value) in record.enumerated() {
            guard case .string(let text) = value else { continue }
            let name = outputSchema.fields[index].name
            if !unscanned.contains(name), scanner.scan(text, field: name) { found = true }
        }
        return found
    }

    /// Records the PII gate dropped (`pii_gate: suppress`).
    private var gateSuppressed = 0

    /// True unless the PII gate blocks and found something.
    public var gatePassed: Bool { gateMode != .block || scanner.total == 0 }

    public var report: GovernanceReport {
        let entries = zip(rules.indices, zip(rules, stages)).map { index, pair in
            let (rule, stage) = pair
            switch stage {
            case .record(let step):
                return GovernanceReport.RuleEntry(index: index, rule: type(of: rule).name, fields: rule.referencedFields,
                                                  stats: step.stats, details: nil)
            case .dataset(let step):
                return GovernanceReport.RuleEntry(index: index, rule: type(of: rule).name, fields: rule.referencedFields,
                                                  stats: step.stats, details: step.details)
            case .aggregate(let step):
                return GovernanceReport.RuleEntry(index: index, rule: type(of: rule).name, fields: rule.referencedFields,
                                                  stats: step.stats, details: step.details)
            }
        }
        return GovernanceReport(
            classification: classification, roles: roles, rowsIn: rowsIn, rowsOut: rowsOut, rowsSuppressed: rowsIn - rowsKept,
            rules: entries,
            piiGate: .init(mode: gateMode, passed: gatePassed, findings: scanner.findings,
                           rowsSuppressed: gateMode == .suppress ? gateSuppressed : nil))
    }
}
