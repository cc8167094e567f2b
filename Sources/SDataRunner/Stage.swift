import SDataCore
import SDataPluginAPI

/// The staged raw extract: every record the source produced, in a compact binary form, so that governance can read
/// the data as many times as its rules need (k-anonymity counts first, filters next) without fetching again.
///
/// Batches may bring new fields (JSON sources); the stage keeps the union schema, appending fields as they appear,
/// and unifies types. Each record is written as a value count followed by tagged values; the reader pads records
/// written before a field appeared with nulls.
final class StageWriter {
    private let sink: FileSink
    private var buffer: [UInt8] = []
    private(set) var schema = Schema()
    private(set) var records = 0
    private var typed = Set<Int>()

    init(path: String) throws(SourceError) {
        do {
            sink = try FileSink(path: path, exclusive: false, mode: 0o600)
        } catch {
            throw SourceError("cannot stage the extract: \(error.description)")
        }
        buffer.reserveCapacity(1 << 16)
    }

    func append(_ batch: RecordBatch) throws(SourceError) {
        var mapping: [Int] = []
        for field in batch.schema.fields {
            if let index = schema.index(of: field.name) {
                mapping.append(index)
            } else {
                mapping.append(schema.count)
                schema.append(field)
            }
        }
        let identity = mapping == Array(0..<mapping.count) && mapping.count == schema.count
        for record in batch.records {
            if identity {
                encode(record)
            } else {
                var wide = Record(repeating: .null, count: schema.count)
                for (position, value) in zip(mapping, record) { wide[position] = value }
                encode(wide)
            }
            for (position, value) in record.enumerated() {
                guard let type = value.type else { continue }
                let target = identity ? position : mapping[position]
                if typed.insert(target).inserted {
                    if schema.fields[target].type != type { schema.setType(type, at: target) }
                } else if schema.fields[target].type != type {
                    schema.setType(schema.fields[target].type.unified(with: type), at: target)
                }
            }
            records += 1
        }
        if buffer.count >= 1 << 16 { try flush() }
    }

    private func encode(_ record: Record) {
        StageCodec.writeVarint(UInt64(record.count), to: &buffer)
        for value in record { StageCodec.write(value, to: &buffer) }
    }

    private func flush() throws(SourceError) {
        do {
            try sink.write(buffer)
        } catch {
            throw SourceError("cannot stage the extract: \(error.description)")
        }
        buffer.removeAll(keepingCapacity: true)
    }

    func finish() throws(SourceError) {
        try flush()
        do { try sink.sync() } catch { throw SourceError("cannot stage the extract: \(error.description)") }
    }
}

/// Reads a stage back in batches, typed by the stage's final schema.
struct StageReader: AsyncSequence {
    typealias Element = RecordBatch
    let path: String
    let schema: Schema
    let batchSize: Int

    func makeAsyncIterator() -> Iterator {
        Iterator(path: path, schema: schema, batchSize: batchSize)
    }

    struct Iterator: AsyncIteratorProtocol {
        let schema: Schema
        let batchSize: Int
        let reader: ByteReader?
        let openError: SourceError?

        init(path: String, schema: Schema, batchSize: Int) {
            self.schema = schema
            self.batchSize = batchSize
            do {
                reader = try ByteReader(path: path)
                openError = nil
            } catch {
                reader = nil
                openError = error
            }
        }

        mutating func next() async throws -> RecordBatch? {
            try Task.checkCancellation()
            if let openError { throw openError }
            guard let reader else { return nil }
            var records: [Record] = []
            records.reserveCapacity(batchSize)
            let width = schema.count
            let types = schema.fields.map(\.type)
            while records.count < batchSize, try reader.peek() != nil {
                let count = Int(try StageCodec.readVarint(from: reader))
                var record = Record()
                record.reserveCapacity(width)
                for position in 0..<count {
                    record.append(StageCodec.conform(try StageCodec.read(from: reader), to: types[position]))
                }
                if count < width { record += repeatElement(Value.null, count: width - count) }
                records.append(record)
            }
            return records.isEmpty ? nil : RecordBatch(schema: schema, records: records)
        }
    }
}
