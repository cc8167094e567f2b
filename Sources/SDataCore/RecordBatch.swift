/// One row: values in the order of its batch's schema.
public typealias Record = [Value]

/// A slice of a dataset: records that share a schema.
///
/// Batches are the unit that flows through S-Data. A source produces them, the runner stages them, governance rewrites
/// them and writers format them; no stage ever holds a whole dataset.
public struct RecordBatch: Sendable {
    public var schema: Schema
    public var records: [Record]

    public init(schema: Schema, records: [Record] = []) {
        self.schema = schema
        self.records = records
    }

    public var count: Int { records.count }
    public var isEmpty: Bool { records.isEmpty }
}
