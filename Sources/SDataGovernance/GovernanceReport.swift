/// What governance did to one dataset version, in counts only: published next to the data.
public struct GovernanceReport: Sendable, Codable, Equatable {
    public struct RuleEntry: Sendable, Codable, Equatable {
        public var index: Int
        public var rule: String
        public var fields: [String]
        public var stats: RuleStats
        public var details: [String: Int]?
    }

    public struct Gate: Sendable, Codable, Equatable {
        public var mode: PIIGateMode
        public var passed: Bool
        /// Findings per `field:detector`, counts only.
        public var findings: [String: Int]
        /// Records dropped by `pii_gate: suppress`.
        public var rowsSuppressed: Int?

        enum CodingKeys: String, CodingKey {
            case mode, passed, findings
            case rowsSuppressed = "rows_suppressed"
        }
    }

    public var classification: String
    /// The declared role of each output field.
    public var roles: [String: FieldRole]
    public var rowsIn: Int
    public var rowsOut: Int
    public var rowsSuppressed: Int
    public var rules: [RuleEntry]
    public var piiGate: Gate
    /// Differential privacy: ε this release spent, and the dataset's totals.
    public var privacy: Privacy?

    public struct Privacy: Sendable, Codable, Equatable {
        public var mechanism: String
        public var epsilon: Double
        public var spent: Double
        public var budget: Double?
        public var remaining: Double?

        public init(mechanism: String, epsilon: Double, spent: Double, budget: Double?, remaining: Double?) {
            self.mechanism = mechanism
            self.epsilon = epsilon
            self.spent = spent
            self.budget = budget
            self.remaining = remaining
        }
    }

    enum CodingKeys: String, CodingKey {
        case classification, rules, roles
        case rowsIn = "rows_in"
        case rowsOut = "rows_out"
        case rowsSuppressed = "rows_suppressed"
        case piiGate = "pii_gate"
        case privacy
    }
}
