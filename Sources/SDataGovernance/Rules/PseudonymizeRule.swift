public import SDataCore
import Crypto

/// `pseudonymize: { fields: [phone], key: ${secret:KEY}, length: 16 }` replaces each value with the first `length`
/// lowercase hex digits of HMAC-SHA256(key, UTF-8 of the value): the same input gives the same pseudonym within a key,
/// and without the key it cannot be reversed or recomputed from a guess.
public struct PseudonymizeRule: GovernanceRule {
    public static let name = "pseudonymize"
    public static let summary = "Replaces values with keyed HMAC-SHA256 pseudonyms (hex, truncated to 'length')."
    public let fields: [String]
    let key: [UInt8]
    public let length: Int

    public init(fields: [String], key: [UInt8], length: Int = 16) {
        self.fields = fields
        self.key = key
        self.length = length
    }

    public static func decode(_ node: ConfigNode, diagnostics: inout Diagnostics) -> PseudonymizeRule? {
        guard let options = RuleOptions(rule: name, node: node, allowed: ["field", "fields", "key", "length"],
                                        diagnostics: &diagnostics) else { return nil }
        let fields = options.fields(diagnostics: &diagnostics)
        let length = options.integer("length", in: 4...64, diagnostics: &diagnostics) ?? 16
        guard let keyNode = options.require("key", diagnostics: &diagnostics) else { return nil }
        guard let key = keyNode.scalar, key.utf8.count >= 8 else {
            diagnostics.error("'key' of rule 'pseudonymize' must be a secret of at least 8 bytes", at: keyNode.location)
            return nil
        }
        if !keyNode.isSecret {
            diagnostics.error("'key' of rule 'pseudonymize' must come from a secret (`${secret:NAME}`), not the spec text",
                              at: keyNode.location)
            return nil
        }
        guard let fields else { return nil }
        return PseudonymizeRule(fields: fields, key: Array(key.utf8), length: length)
    }

    public var referencedFields: [String] { fields }

    public func bind(to input: Schema) throws(GovernanceError) -> RuleStep {
        var positions: [Int] = []
        for field in fields { positions.append(try input.require(field, for: Self.name)) }
        return .record(PseudonymizeStep(input: input, positions: positions, key: key, length: length))
    }
}

final class PseudonymizeStep: RecordStep {
    let outputSchema: Schema
    var stats = RuleStats()
    private let positions: [Int]
    private let pseudonymizer: Pseudonymizer

    init(input: Schema, positions: [Int], key: [UInt8], length: Int) {
        var schema = input
        for position in positions { schema.setType(.string, at: position) }
        outputSchema = schema
        self.positions = positions
        pseudonymizer = Pseudonymizer(key: key, length: length)
    }

    func apply(_ record: inout Record) throws(GovernanceError) -> Bool {
        for position in positions where !record[position].isNull {
            record[position] = .string(pseudonymizer.pseudonym(for: record[position].text))
            stats.valuesChanged += 1
        }
        return true
    }
}

/// Keyed pseudonyms, memoized per distinct value within a run (bounded).
public final class Pseudonymizer {
    private let key: SymmetricKey
    private let length: Int
    private var memo: [String: String] = [:]
    private let memoLimit = 1 << 20

    public init(key: [UInt8], length: Int) {
        self.key = SymmetricKey(data: key)
        self.length = length
    }

    public func pseudonym(for text: String) -> String {
        if let known = memo[text] { return known }
        let mac = HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: key)
        let result = String(Hex.string(mac).prefix(length))
        if memo.count >= memoLimit { memo.removeAll(keepingCapacity: true) }
        memo[text] = result
        return result
    }
}
