public import SDataCore

/// Assembles records whose fields are known by name into batches, growing the schema when a new field appears.
///
/// Sources whose records do not share a fixed header (JSON objects, XML elements) use it; each field's type is the
/// unification of the types seen (integers and numbers make a number, any other mix a string).
public struct BatchBuilder: Sendable {
    public private(set) var schema = Schema()
    private var records: [Record] = []
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        records.reserveCapacity(self.capacity)
    }

    public var isFull: Bool { records.count >= capacity }
    public var isEmpty: Bool { records.isEmpty }

    /// Adds a record given as name/value pairs in source order.
    public mutating func append(_ pairs: [(String, Value)]) {
        var record = Record(repeating: .null, count: schema.count)
        // Records of one source mostly repeat the previous record's field names in the same order: then the
        // positions are the previous ones, without a dictionary lookup per field.
        let repeated = pairs.count == lastNames.count && zip(pairs, lastNames).allSatisfy { $0.0 == $1 }
        if !repeated {
            lastNames = pairs.map(\.0)
            lastPositions = []
        }
        for offset in pairs.indices {
            let index: Int
            if repeated {
                index = lastPositions[offset]
            } else if let known = schema.index(of: pairs[offset].0) {
                index = known
            } else {
                index = schema.count
                schema.append(Field(name: pairs[offset].0, type: .string))
                record.append(.null)
            }
            if !repeated { lastPositions.append(index) }
            let value = pairs[offset].1
            if let type = value.type {
                // A field seen only as null so far takes the type of its first value; a string stays a string.
                if seen.count <= index { seen += Array(repeating: nil, count: index + 1 - seen.count) }
                if seen[index] != .string {
                    let unified = seen[index].map { $0.unified(with: type) } ?? type
                    if unified != schema.fields[index].type { schema.setType(unified, at: index) }
                    seen[index] = unified
                }
            }
            record[index] = value
        }
        records.append(record)
    }

    /// Each position's type once it has had a non-null value (the schema's, read without going through it).
    private var seen: [FieldType?] = []
    private var lastNames: [String] = []
    private var lastPositions: [Int] = []

    /// The records gathered so far as one batch; the builder starts a new batch with the same schema.
    public mutating func take() -> RecordBatch {
        let width = schema.count
        var batch = RecordBatch(schema: schema, records: records)
        for index in batch.records.indices where batch.records[index].count < width {
            batch.records[index] += Array(repeating: .null, count: width - batch.records[index].count)
        }
        records.removeAll(keepingCapacity: true)
        return batch
    }
}

/// A ``BatchBuilder`` wired to a ``RecordWriter``: append records, full batches are sent as they fill.
public struct BatchingWriter: Sendable {
    private var builder: BatchBuilder
    private let writer: RecordWriter
    /// Turn `""` into null, so that a JSON API's empty strings and its XML twin's empty elements agree.
    private let emptyAsNull: Bool
    public private(set) var count = 0

    public init(_ writer: RecordWriter, batchSize: Int, emptyAsNull: Bool = true) {
        builder = BatchBuilder(capacity: batchSize)
        self.writer = writer
        self.emptyAsNull = emptyAsNull
    }

    /// Adds one record given as fields.
    public mutating func append(_ fields: [(String, Value)]) async throws {
        builder.append(emptyAsNull ? fields.map { ($0.0, $0.1 == .string("") ? .null : $0.1) } : fields)
        count += 1
        if builder.isFull { try await writer.write(builder.take()) }
    }

    /// Adds one JSON record, nested objects flattened to `parent.child` fields.
    public mutating func append(_ value: JSONValue) async throws {
        try await append(value.recordFields())
    }

    /// Sends what is left.
    public mutating func finish() async throws {
        try await writer.write(builder.take())
    }
}
