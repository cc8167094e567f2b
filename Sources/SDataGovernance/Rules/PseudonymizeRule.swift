public import SDataCore
import Crypto

/// `pseudonymize: { fields: [phone], key: ${secret:KEY}, length: 16, domain: tracing, epoch: stable }` replaces each
/// value with the first `length` lowercase hex digits of HMAC-SHA256(k, UTF-8 of the value): the same input gives the
/// same pseudonym within a key, and without the key it cannot be reversed or recomputed from a guess.
///
/// The HMAC key `k` is derived from the secret with HKDF-SHA256 for a `domain` and an `epoch`: pseudonyms of one
/// domain cannot be joined with another's, and `epoch: per_release` derives a fresh key for every run, so that two
/// published versions cannot be linked person by person (`stable`, the default, keeps pseudonyms across releases).
/// `raw_key: true` uses the secret itself as the HMAC key (to reproduce pseudonyms computed elsewhere).
public struct PseudonymizeRule: GovernanceRule {
    public static let name = "pseudonymize"
    public static let summary = "Replaces values with keyed HMAC-SHA256 pseudonyms (hex, truncated to 'length')."
    public enum Epoch: String, Sendable, CaseIterable {
        case stable
        case perRelease = "per_release"
    }

    public let fields: [String]
    let key: [UInt8]
    public let length: Int
    public let domain: String
    public let epoch: Epoch
    public let rawKey: Bool

    public init(fields: [String], key: [UInt8], length: Int = 16, domain: String = "default", epoch: Epoch = .stable,
                rawKey: Bool = false) {
        self.fields = fields
        self.key = key
        self.length = length
        self.domain = domain
        self.epoch = epoch
        self.rawKey = rawKey
    }

    public static func decode(_ node: ConfigNode, diagnostics: inout Diagnostics) -> PseudonymizeRule? {
        guard let options = RuleOptions(rule: name, node: node, allowed: ["field", "fields", "key", "length", "domain", "epoch", "raw_key"],
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
        let domain = options["domain"]?.scalar ?? "default"
        var epoch = Epoch.stable
        if let node = options["epoch"] {
            guard let text = node.scalar, let value = Epoch(rawValue: text) else {
                diagnostics.error("'epoch' of rule 'pseudonymize' must be 'stable' or 'per_release'", at: node.location)
                return nil
            }
            epoch = value
        }
        var rawKey = false
        if let node = options["raw_key"] {
            guard let flag = node.bool else {
                diagnostics.error("'raw_key' of rule 'pseudonymize' must be true or false", at: node.location)
                return nil
            }
            rawKey = flag
        }
        if rawKey && epoch == .perRelease {
            diagnostics.error("'epoch: per_release' needs a derived key; remove 'raw_key'", at: node.location)
            return nil
        }
        guard let fields else { return nil }
        return PseudonymizeRule(fields: fields, key: Array(key.utf8), length: length, domain: domain, epoch: epoch,
                                rawKey: rawKey)
    }

    public var referencedFields: [String] { fields }

    public func bind(to input: Schema) throws(GovernanceError) -> RuleStep {
        try bind(to: input, context: BindingContext())
    }

    public func bind(to input: Schema, context: BindingContext) throws(GovernanceError) -> RuleStep {
        var positions: [Int] = []
        for field in fields { positions.append(try input.require(field, for: Self.name)) }
        return .record(PseudonymizeStep(input: input, positions: positions, key: hmacKey(runId: context.runId),
                                        length: length))
    }

    /// The HMAC key for a run: HKDF-SHA256(secret, salt "sdata/pseudonymize/v1", info domain ␀ epoch).
    public func hmacKey(runId: String) -> [UInt8] {
        if rawKey { return key }
        let label = epoch == .stable ? "stable" : "release:" + runId
        let derived = HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: key),
                                             salt: Array("sdata/pseudonymize/v1".utf8),
                                             info: Array((domain + "\u{0}" + label).utf8), outputByteCount: 32)
        return derived.withUnsafeBytes { Array($0) }
    }
}

final class PseudonymizeStep: RecordStep {
    var rewrittenPositions: Set<Int>? { Set(positions) }

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
    /// Keyed by the text, holding the text itself too: `String` keys compare by canonical equivalence, but the HMAC is of
    /// the exact bytes, so two spellings of one string (NFC and NFD) must not share a pseudonym.
    private var memo: [String: (source: String, pseudonym: String)] = [:]
    private let memoLimit = 1 << 20

    public init(key: [UInt8], length: Int) {
        self.key = SymmetricKey(data: key)
        self.length = length
    }

    public func pseudonym(for text: String) -> String {
        if let known = memo[text], known.source.utf8.elementsEqual(text.utf8) { return known.pseudonym }
        let mac = HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: key)
        let result = String(Hex.string(mac).prefix(length))
        if memo.count >= memoLimit { memo.removeAll(keepingCapacity: true) }
        memo[text] = (text, result)
        return result
    }
}

/// Never prints its key.
extension PseudonymizeRule: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { "PseudonymizeRule(fields: \(fields), key: ***, domain: \(domain))" }
    public var debugDescription: String { description }
}
