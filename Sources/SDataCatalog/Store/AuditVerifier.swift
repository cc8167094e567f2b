/// Checks the audit log's hash chain: every entry's hash must match its content and the previous entry's hash, and
/// sequence numbers must run 1, 2, 3… without a gap. An edited, removed, inserted or reordered entry breaks it.
public enum AuditVerifier {
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public let sequence: Int
        public let message: String
        public var description: String { "entry \(sequence): \(message)" }
    }

    /// The problems found, in log order; empty when the chain is intact.
    public static func verify(_ entries: [AuditEntry]) -> [Problem] {
        var problems: [Problem] = []
        var previousHash = AuditChain.genesis
        for (offset, entry) in entries.enumerated() {
            let expectedSequence = offset + 1
            if entry.sequence != expectedSequence {
                problems.append(Problem(sequence: entry.sequence,
                                        message: "expected sequence \(expectedSequence): an entry was removed, inserted or reordered"))
            }
            if entry.previousHash != previousHash {
                problems.append(Problem(sequence: entry.sequence,
                                        message: "does not link to the entry before it (removed or reordered entries)"))
            }
            let recomputed = AuditChain.hash(sequence: entry.sequence, at: entry.atText, kind: entry.kind,
                                             subject: entry.subject, detail: entry.detail,
                                             previousHash: entry.previousHash)
            if recomputed != entry.hash {
                problems.append(Problem(sequence: entry.sequence, message: "its content does not match its hash (edited)"))
            }
            previousHash = entry.hash
        }
        return problems
    }
}
