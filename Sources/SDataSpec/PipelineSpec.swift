public import SDataCore
public import SDataPluginAPI
public import SDataGovernance

/// A pipeline spec after loading: every value checked, every secret resolved.
public struct PipelineSpec: Sendable {
    /// The file it came from.
    public var file: String
    /// SHA-256 of the spec text as written (before interpolation, so it holds no secret): part of each version's
    /// lineage.
    public var specHash: String
    public var id: String
    public var title: String
    public var description: String
    public var owner: String?
    public var schedule: CronSchedule?
    public var timezone: String?
    public var source: SourceSpec
    public var schema: SchemaSpec?
    public var governance: GovernanceSpec
    public var publish: PublishSpec
    /// Retries, timeout and staleness alerting.
    public var operations = OperationsSpec()
    /// Findings that do not stop the spec from running (shown by `sdata validate` and `sdata run`).
    public var warnings: [Diagnostic] = []

    /// The folder relative paths in the spec start from.
    public var directory: String {
        guard let slash = file.lastIndex(of: "/") else { return "." }
        return String(file[..<slash])
    }
}

/// How a pipeline is run unattended.
public struct OperationsSpec: Sendable, Equatable {
    /// Further attempts after a failed run (`retries`), with `retryDelay` doubled after each one.
    public var retries = 0
    public var retryDelay: Int = 60
    /// Seconds a run may take before it is cancelled and recorded as failed.
    public var timeout: Int?
    /// Seconds without a successful run after which `sdata run --due` alerts.
    public var maxStaleness: Int?
    /// What happens to firings missed while nothing was checking the schedule (`catchup`).
    public var catchUp: CatchUp = .latest

    public enum CatchUp: String, Sendable, CaseIterable {
        /// Missed firings are skipped; the pipeline waits for its next one.
        case none
        /// Missed firings give one run (not one per firing).
        case latest
    }

    public init() {}
}

public struct SourceSpec: Sendable {
    public var plugin: any SourcePlugin.Type
    public var options: PluginOptions
    public var location: SourceLocation?
    /// The field whose maximum is kept as a bookmark between runs.
    public var cursor: String?
    /// Timeouts, retries and rate limit for network plugins (`source.http`).
    public var http = HTTPSettings()
}

/// Declared fields: types (and formats) applied to the source's values before staging.
public struct SchemaSpec: Sendable {
    public struct FieldSpec: Sendable {
        public var name: String
        public var type: FieldType
        public var format: DatePattern?
        public var description: String?
        public var minimum: Double?
        public var maximum: Double?
        public var required: Bool
        public var location: SourceLocation?
    }

    public var fields: [FieldSpec]
    /// Whether fields the spec does not declare may appear in the source.
    public var allowsAdditional: Bool
    public var primaryKey: [String]
}

public struct GovernanceSpec: Sendable {
    public enum Classification: String, Sendable, CaseIterable { case `public`, `internal`, sensitive }

    public var classification: Classification
    public var rules: [any GovernanceRule]
    /// Where each rule was written, in rule order.
    public var ruleLocations: [SourceLocation?]
    public var piiGate: PIIGateMode
    /// The role of each output field (`governance.roles`); required for every field of a sensitive pipeline.
    public var roles: [String: FieldRole]
    public var retention: RetentionPolicy
}

public struct PublishSpec: Sendable {
    public enum Format: String, Sendable, CaseIterable {
        case csv, json, jsonl, geojson, parquet, xlsx
        /// CSV with a UTF-8 byte-order mark and CRLF line ends, for Excel.
        case csvExcel = "csv-excel"
    }

    public struct CSVDialect: Sendable, Equatable {
        public var delimiter: UInt8 = UInt8(ascii: ",")
        public var lineTerminator: String = "\n"
        public var header: Bool = true
        /// Write a UTF-8 byte-order mark first, so that spreadsheet programs detect UTF-8.
        public var byteOrderMark: Bool = false
        public init() {}
    }

    public var dataset: String
    public var title: String?
    public var description: String?
    public var license: String?
    public var keywords: [String]
    public var theme: String?
    public var formats: [Format]
    public var csv: CSVDialect
}
