import Crypto
import Foundation
public import SDataCore

/// `aggregate` publishes counts (and bounded sums) per group instead of records:
/// ```yaml
/// - aggregate:
///     group_by: [district, visit_day]
///     count: visits
///     sums: [{ field: amount, as: total_amount, lower: 0, upper: 300000 }]
///     min_count: 10                      # cells with fewer records are not published
///     noise: { epsilon: 0.5, budget: 10, key: "${secret:NOISE_KEY}" }  # Laplace noise; ε per release
/// ```
/// With `noise`, each released measure gets Laplace noise calibrated to its sensitivity (1 for a count; the larger
/// of |lower| and |upper| for a sum, whose values are clamped into [lower, upper]); ε is split equally between the
/// measures (sequential composition); counts are rounded and never negative; the `min_count` threshold applies to the
/// noisy count. The run charges ε to the catalog's privacy-budget ledger and refuses to publish past `budget`.
///
/// Noise is drawn from a generator keyed by the secret `key` and seeded with each cell's true values, so a re-run on
/// unchanged data releases the same numbers: nothing new is learnt, no new version is published and no budget is
/// spent, while averaging repeated releases of one cell gains an attacker nothing.
/// It assumes each record is one person's single contribution: bound contributions upstream (one row per person).
public struct AggregateRule: GovernanceRule {
    public static let name = "aggregate"
    public static let summary = "Publishes counts and bounded sums per group, optionally with differential-privacy noise."

    public struct Sum: Sendable {
        public var field: String
        public var output: String
        public var lower: Double
        public var upper: Double
    }

    public let groupBy: [String]
    public let countName: String
    public let sums: [Sum]
    public let minCount: Int
    /// What a cell below `min_count` does: `suppress` (not published) or `fail` (the run stops).
    public let action: GateAction
    public let epsilon: Double?
    public let budget: Double?
    let noiseKey: [UInt8]

    public init(groupBy: [String], countName: String = "count", sums: [Sum] = [], minCount: Int = 0,
                action: GateAction = .suppress, epsilon: Double? = nil, budget: Double? = nil, noiseKey: [UInt8] = []) {
        self.action = action
        self.noiseKey = noiseKey
        self.groupBy = groupBy
        self.countName = countName
        self.sums = sums
        self.minCount = minCount
        self.epsilon = epsilon
        self.budget = budget
    }

    public static func decode(_ node: ConfigNode, diagnostics: inout Diagnostics) -> AggregateRule? {
        guard let options = RuleOptions(rule: name, node: node, allowed: ["group_by", "count", "sums", "min_count", "action", "noise"],
                                        diagnostics: &diagnostics) else { return nil }
        guard let groupNode = options.require("group_by", diagnostics: &diagnostics) else { return nil }
        guard let groupBy = groupNode.stringList, !groupBy.isEmpty else {
            diagnostics.error("'group_by' must be a non-empty list of field names", at: groupNode.location)
            return nil
        }
        let countName = options["count"]?.scalar ?? "count"
        let minCount = options.integer("min_count", in: 0...1_000_000, diagnostics: &diagnostics) ?? 0
        var sums: [Sum] = []
        for item in options["sums"]?.sequence ?? [] {
            guard let entry = RuleOptions(rule: "aggregate.sums", node: item, allowed: ["field", "as", "lower", "upper"],
                                          diagnostics: &diagnostics),
                  let field = entry.require("field", diagnostics: &diagnostics)?.scalar,
                  let lower = entry.require("lower", diagnostics: &diagnostics)?.double,
                  let upper = entry.require("upper", diagnostics: &diagnostics)?.double else { return nil }
            guard lower < upper else {
                diagnostics.error("'lower' must be below 'upper'", at: item.location)
                return nil
            }
            sums.append(Sum(field: field, output: entry["as"]?.scalar ?? "sum_" + field, lower: lower, upper: upper))
        }
        var epsilon: Double?, budget: Double?, noiseKey: [UInt8] = []
        if let noise = options["noise"] {
            guard let entry = RuleOptions(rule: "aggregate.noise", node: noise, allowed: ["epsilon", "budget", "key"],
                                          diagnostics: &diagnostics) else { return nil }
            guard let keyNode = entry.require("key", diagnostics: &diagnostics) else { return nil }
            guard keyNode.isSecret, let key = keyNode.scalar, key.utf8.count >= 8 else {
                diagnostics.error("'key' of the noise must be a secret (`${secret:NAME}`) of at least 8 bytes",
                                  at: keyNode.location)
                return nil
            }
            noiseKey = Array(key.utf8)
            guard let value = entry.require("epsilon", diagnostics: &diagnostics)?.double, value > 0, value <= 10 else {
                diagnostics.error("'epsilon' must be a number above 0 and at most 10", at: noise.location)
                return nil
            }
            epsilon = value
            if let limit = entry["budget"] {
                guard let total = limit.double, total >= value else {
                    diagnostics.error("'budget' must be a number no smaller than 'epsilon'", at: limit.location)
                    return nil
                }
                budget = total
            }
        }
        guard let action = GateAction.decode(options["action"], rule: name, diagnostics: &diagnostics) else { return nil }
        return AggregateRule(groupBy: groupBy, countName: countName, sums: sums, minCount: minCount, action: action,
                             epsilon: epsilon, budget: budget, noiseKey: noiseKey)
    }

    public var referencedFields: [String] { groupBy + sums.map(\.field) }

    public func bind(to input: Schema) throws(GovernanceError) -> RuleStep {
        var groupPositions: [Int] = []
        for field in groupBy { groupPositions.append(try input.require(field, for: Self.name)) }
        var sumPositions: [Int] = []
        for sum in sums { sumPositions.append(try input.require(sum.field, for: Self.name)) }
        var fields = groupPositions.map { input.fields[$0] }
        fields.append(Field(name: countName, type: .integer, description: "Number of records"
                            + (epsilon == nil ? "" : " (with differential-privacy noise)")))
        for sum in sums { fields.append(Field(name: sum.output, type: .number, description: "Sum of \(sum.field)")) }
        let schema = Schema(fields)
        guard schema.count == fields.count else {
            throw GovernanceError("rule 'aggregate' would publish two columns with the same name")
        }
        return .aggregate(GroupAggregateStep(rule: self, outputSchema: schema, groups: groupPositions, sums: sumPositions))
    }
}

final class GroupAggregateStep: AggregateStep {
    let outputSchema: Schema
    var stats = RuleStats()
    private let rule: AggregateRule
    private let groups: [Int]
    private let sumPositions: [Int]
    private var cells: [ClassKey: (values: [Value], count: Int, sums: [Double])] = [:]
    private var order: [ClassKey] = []
    private var suppressed = 0

    init(rule: AggregateRule, outputSchema: Schema, groups: [Int], sums: [Int]) {
        self.rule = rule
        self.outputSchema = outputSchema
        self.groups = groups
        sumPositions = sums
    }

    var epsilon: Double? { rule.epsilon }
    var budget: Double? { rule.budget }

    func accumulate(_ record: Record) {
        let key = ClassKey(record, groups)
        if cells[key] == nil {
            cells[key] = (groups.map { record[$0] }, 0, Array(repeating: 0, count: sumPositions.count))
            order.append(key)
        }
        cells[key]!.count += 1
        for (slot, position) in sumPositions.enumerated() {
            let bounds = rule.sums[slot]
            let value = Self.number(record[position]) ?? 0
            cells[key]!.sums[slot] += min(max(value, bounds.lower), bounds.upper)
        }
    }

    func finish() throws(GovernanceError) -> [Record] {
        var rows: [Record] = []
        let measures = 1 + sumPositions.count
        let share = rule.epsilon.map { $0 / Double(measures) }
        for key in order.sorted(by: { $0.text < $1.text }) {
            guard let cell = cells[key] else { continue }
            let seed = key.text + "|\(cell.count)|" + cell.sums.map { String($0.bitPattern) }.joined(separator: ",")
            var generator = KeyedNoise(key: rule.noiseKey, seed: seed)
            var count = Double(cell.count)
            if let share { count += Laplace.sample(scale: 1 / share, using: &generator) }
            let published = max(0, Int(count.rounded()))
            guard published >= rule.minCount, published > 0 else {
                if rule.action == .fail, published > 0 {
                    throw GovernanceError("minimum cell count gate: a cell of the aggregate has fewer than "
                                          + "\(rule.minCount) records (action: fail)")
                }
                suppressed += 1
                continue
            }
            var row = cell.values
            row.append(.integer(Int64(published)))
            for (slot, sum) in cell.sums.enumerated() {
                var total = sum
                if let share {
                    let bounds = rule.sums[slot]
                    total += Laplace.sample(scale: max(abs(bounds.lower), abs(bounds.upper)) / share, using: &generator)
                    // Post-processing costs no privacy: a sum of values ≥ 0 is not published negative.
                    if bounds.lower >= 0 { total = max(0, total) }
                }
                row.append(.decimal(total, scale: 2))
            }
            rows.append(row)
        }
        stats.rowsDropped = 0
        return rows
    }

    var details: [String: Int] {
        ["cells": cells.count, "cells_suppressed": suppressed, "min_count": rule.minCount]
    }

    static func number(_ value: Value) -> Double? {
        if case .string(let text) = value { return Double(text) }
        return value.doubleValue
    }
}

/// A deterministic, unpredictable bit stream: HMAC-SHA256(key, seed ‖ counter). Without the key the noise cannot be
/// predicted or subtracted; with the same key and seed it repeats.
struct KeyedNoise: RandomNumberGenerator {
    private let key: SymmetricKey
    private let seed: [UInt8]
    private var counter: UInt64 = 0
    private var pool: [UInt64] = []

    init(key: [UInt8], seed: String) {
        self.key = SymmetricKey(data: key.isEmpty ? Array("sdata-unkeyed-noise".utf8) : key)
        self.seed = Array(seed.utf8)
    }

    mutating func next() -> UInt64 {
        if pool.isEmpty {
            var message = seed
            withUnsafeBytes(of: counter.littleEndian) { message.append(contentsOf: $0) }
            counter += 1
            let mac = Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
            pool = stride(from: 0, to: 32, by: 8).map { offset in
                mac[offset..<(offset + 8)].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            }
        }
        return pool.removeLast()
    }
}

/// Laplace noise by inverting the distribution function.
enum Laplace {
    static func sample(scale: Double, using generator: inout some RandomNumberGenerator) -> Double {
        // u uniform in (-1/2, 1/2), never exactly ±1/2.
        var u = 0.0
        repeat { u = Double.random(in: -0.5..<0.5, using: &generator) } while u == -0.5
        return -scale * (u < 0 ? -1 : 1) * log(1 - 2 * abs(u))
    }
}

/// Never prints its noise key.
extension AggregateRule: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { "AggregateRule(groupBy: \(groupBy), noiseKey: ***)" }
    public var debugDescription: String { description }
}
