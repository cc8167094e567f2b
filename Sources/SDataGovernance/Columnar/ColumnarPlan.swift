public import SDataCore
import Crypto
import Foundation

/// A pipeline's rules compiled for the columnar engine: every record rule becomes a chain of byte-level steps on one
/// column, so that a chunk of delimited text is governed field by field without building a `Value` or a `String`
/// per field.
///
/// Only rules with an exact byte-level equivalent compile — pseudonymize, generalize, redact (`on_match: redact`),
/// drop, select, rename and one `k_anonymity` (followed by projections only) — on columns still holding text. For
/// any other plan ``compile(rules:input:classification:piiGate:roles:context:)`` answers `nil` and the runner uses
/// the row engine (``GovernancePlan``). Within a step, any value the fast kernels cannot vouch for (a number with an
/// exponent, a datetime in another layout, text that may hold personal data) is computed by the row engine's own
/// function, so both engines publish the same bytes and the same report; a differential test checks that.
public final class ColumnarPlan: @unchecked Sendable {
    enum Operation {
        case pseudonymize(key: [UInt8], length: Int)
        case generalize(GeneralizeRule.Method)
        /// `minimumDigits` 0: every value takes the row engine's path (user patterns, e-mails).
        case redact(RedactRule, minimumDigits: Int)

        var producesString: Bool {
            switch self {
            case .pseudonymize, .redact: true
            case .generalize(let method):
                switch method {
                case .band, .lookup: true
                case .decimals, .truncate: false
                }
            }
        }
    }

    struct Step {
        let rule: Int
        /// The field's name when the rule saw it (for errors).
        let field: String
        let operation: Operation
        /// Index among all steps (lanes keep per-step state: memos, redaction steps).
        let id: Int
    }

    struct Chain {
        let source: Int
        var steps: [Step] = []
        /// The value is still text (`Value.string`), so later text steps and the PII gate apply.
        var isString = true
    }

    let chains: [Chain]
    /// The chain behind each output column.
    let output: [Int]
    /// Chains that run in the final pass: the output's and those whose steps count in the report.
    let evaluated: [Int]
    /// The k-anonymity rule: its index, k, action and the chains of its quasi-identifiers.
    let kAnonymity: (rule: Int, k: Int, fail: Bool, chains: [Int])?
    /// Output columns the PII gate scans (text, not pseudonyms).
    let scanned: [Bool]
    let steps: Int
    let rules: [any GovernanceRule]
    public let inputSchema: Schema
    public let outputSchema: Schema
    public let classification: String
    public let gateMode: PIIGateMode
    public let roles: [String: FieldRole]

    /// The k of the k-anonymity rule, if there is one.
    public var k: Int? { kAnonymity?.k }

    private init(chains: [Chain], output: [Int], kAnonymity: (rule: Int, k: Int, fail: Bool, chains: [Int])?,
                 rules: [any GovernanceRule], row: GovernancePlan, steps: Int) {
        self.chains = chains
        self.output = output
        self.kAnonymity = kAnonymity
        self.rules = rules
        self.steps = steps
        inputSchema = row.inputSchema
        outputSchema = row.outputSchema
        classification = row.classification
        gateMode = row.gateMode
        roles = row.roles
        let unscanned = FieldTrace.outputNames(rules) { $0 is PseudonymizeRule }
        scanned = output.enumerated().map { column, chain in
            chains[chain].isString && !unscanned.contains(row.outputSchema.fields[column].name)
        }
        evaluated = chains.indices.filter { output.contains($0) || !chains[$0].steps.isEmpty }
    }

    /// Compiles `rules` for `input` (every field text, as a delimited file gives), or `nil` when some rule has no
    /// columnar form. Errors are the row engine's: the row plan is bound first, with its checks (roles, schema).
    public static func compile(rules: [any GovernanceRule], input: Schema, classification: String,
                               piiGate: PIIGateMode, roles: [String: FieldRole],
                               context: BindingContext) throws(GovernanceError) -> ColumnarPlan? {
        let row = try GovernancePlan(rules: rules, input: input, classification: classification, piiGate: piiGate,
                                     roles: roles, context: context)
        guard input.fields.allSatisfy({ $0.type == .string }) else { return nil }
        var chains = input.fields.indices.map { Chain(source: $0) }
        var current = Array(chains.indices)
        var schema = input
        var kAnonymity: (rule: Int, k: Int, fail: Bool, chains: [Int])?
        var steps = 0
        for (index, rule) in rules.enumerated() {
            switch try rule.bind(to: schema, context: context) {
            case .record(let step):
                if let projection = step as? Projection {
                    current = projection.positions.map { current[$0] }
                    schema = step.outputSchema
                    continue
                }
                guard kAnonymity == nil else { return nil }
                let operation: Operation
                switch rule {
                case let rule as PseudonymizeRule:
                    operation = .pseudonymize(key: rule.hmacKey(runId: context.runId), length: rule.length)
                case let rule as GeneralizeRule:
                    operation = .generalize(rule.method)
                case let rule as RedactRule where rule.action == .redact:
                    operation = .redact(rule, minimumDigits: minimumDigits(rule))
                default:
                    return nil
                }
                for field in rule.referencedFields {
                    guard let position = schema.index(of: field) else { return nil }
                    let chain = current[position]
                    guard chains[chain].isString else { return nil }
                    chains[chain].steps.append(Step(rule: index, field: field, operation: operation, id: steps))
                    chains[chain].isString = operation.producesString
                    steps += 1
                }
                schema = step.outputSchema
            case .dataset:
                guard kAnonymity == nil, let rule = rule as? KAnonymityRule else { return nil }
                var qi: [Int] = []
                for field in rule.quasiIdentifiers {
                    guard let position = schema.index(of: field) else { return nil }
                    qi.append(current[position])
                }
                kAnonymity = (index, rule.k, rule.action == .fail, qi)
            case .aggregate:
                return nil
            }
        }
        return ColumnarPlan(chains: chains, output: current, kAnonymity: kAnonymity, rules: rules, row: row,
                            steps: steps)
    }

    /// The fewest digits a match of `rule` can hold (0: no shortcut). With normalization on, only ASCII text can be
    /// ruled out cheaply; the lane checks that.
    private static func minimumDigits(_ rule: RedactRule) -> Int {
        guard rule.patterns.isEmpty, !rule.detectors.isEmpty else { return 0 }
        var minimum = Int.max
        for name in rule.detectors {
            guard let detector = BuiltinDetectors.named(name) else { return 0 }
            minimum = min(minimum, detector.minimumDigits)
        }
        return minimum == .max ? 0 : minimum
    }

    /// The report of a finished run, combining every lane's counts.
    public func report(lanes: [ColumnarLane], rowsIn: Int, classes: ClassCounts?) -> GovernanceReport {
        var stats = Array(repeating: RuleStats(), count: rules.count)
        let scanner = PIIScanner()
        var rowsOut = 0, gateSuppressed = 0, smallestKept = Int.max
        for lane in lanes {
            for index in stats.indices {
                stats[index].valuesChanged += lane.stats[index].valuesChanged
                stats[index].rowsDropped += lane.stats[index].rowsDropped
            }
            scanner.merge(lane.scanner)
            rowsOut += lane.rowsOut
            gateSuppressed += lane.gateSuppressed
            smallestKept = min(smallestKept, lane.smallestKept)
        }
        let entries = rules.enumerated().map { index, rule in
            var details: [String: Int]?
            if let kAnonymity, kAnonymity.rule == index, let classes {
                details = ["k": kAnonymity.k, "classes": classes.count, "classes_suppressed": classes.suppressed]
                if smallestKept != .max { details?["k_achieved"] = smallestKept }
            }
            return GovernanceReport.RuleEntry(index: index, rule: type(of: rule).name, fields: rule.referencedFields,
                                              stats: stats[index], details: details)
        }
        let passed = gateMode != .block || scanner.total == 0
        return GovernanceReport(
            classification: classification, roles: roles, rowsIn: rowsIn, rowsOut: rowsOut,
            rowsSuppressed: rowsIn - rowsOut, rules: entries,
            piiGate: .init(mode: gateMode, passed: passed, findings: scanner.findings,
                           rowsSuppressed: gateMode == .suppress ? gateSuppressed : nil))
    }
}

/// The k-anonymity classes of a whole run, merged from every lane: each lane's local class ids mapped to the size of
/// the class over all rows.
public struct ClassCounts: Sendable {
    /// `sizes[lane][localId]`.
    public let sizes: [[Int32]]
    public let count: Int
    public let suppressed: Int

    /// Merges the lanes' classes by ids rather than text: each quasi-identifier's canonical values get whole-run
    /// ids first (a few tables of distinct values), so that a class is a tuple of small integers. When the tuples'
    /// range is small — the usual case, bands and hours and districts — classes are counted in a flat array indexed
    /// by the tuple; otherwise in a table of 4-byte ids. Each lane's class table is freed as soon as it is read.
    public init(lanes: [ColumnarLane], k: Int) {
        let columns = lanes.first?.classColumns ?? 0
        var values = (0 ..< columns).map { _ in ByteTable(capacity: 64) }
        // [lane][column][lane's canonical id] → whole-run id.
        let valueIds: [[[UInt32]]] = lanes.map { lane in
            let canonical = lane.canonicalValues
            return (0 ..< columns).map { column in
                (0 ..< canonical[column].count).map { id in
                    canonical[column].withKey(id) { UInt32(truncatingIfNeeded: values[column].insert($0).id) }
                }
            }
        }
        let radix = values.map { max($0.count, 1) }
        let classes = lanes.reduce(0) { $0 + $1.classSizes.count }
        var range = 1
        for width in radix where range <= 1 << 24 { range = range.multipliedReportingOverflow(by: width).partialValue }
        let dense = range <= 1 << 24 && range <= 8 * max(classes, 1 << 12)
        var totals: [Int32] = dense ? Array(repeating: 0, count: range) : []
        var table = ByteTable(capacity: dense ? 1 : lanes.map(\.classSizes.count).max() ?? 0)
        var key = [UInt32](repeating: 0, count: columns)
        var maps: [[Int32]] = []
        for (number, lane) in lanes.enumerated() {
            let sizes = lane.classSizes, parts = lane.classParts
            var map: [Int32] = []
            map.reserveCapacity(sizes.count)
            for local in 0 ..< sizes.count {
                var index = 0
                for column in 0 ..< columns {
                    let id = valueIds[number][column][Int(parts[local &* columns &+ column])]
                    if dense { index = index &* radix[column] &+ Int(id) } else { key[column] = id }
                }
                if !dense {
                    index = key.withUnsafeBytes { table.insert($0).id }
                    if index == totals.count { totals.append(0) }
                }
                totals[index] += sizes[local]
                map.append(Int32(truncatingIfNeeded: index))
            }
            maps.append(map)
            lane.releaseClasses()
        }
        sizes = maps.map { map in map.map { totals[Int($0)] } }
        count = dense ? totals.count { $0 > 0 } : totals.count
        suppressed = totals.count { $0 > 0 && Int($0) < k }
    }
}
