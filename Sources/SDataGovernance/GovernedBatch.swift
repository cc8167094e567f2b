public import SDataCore

/// Records that went through every governance rule of a pipeline.
///
/// Only ``GovernancePlan`` can create one, so a writer that accepts `GovernedBatch` cannot be handed raw data.
public struct GovernedBatch: Sendable {
    public let schema: Schema
    public let records: [Record]

    init(schema: Schema, records: [Record]) {
        self.schema = schema
        self.records = records
    }

    public var count: Int { records.count }
}
