import Crypto
import Foundation
import SDataCore
import SDataPluginAPI

/// The staged raw extract: every record the source produced, in a compact binary form, encrypted at rest, so that
/// governance can read the data as many times as its rules need (k-anonymity counts first, filters next) without
/// fetching again, and so that destroying the run's key destroys the extract (crypto-shredding).
///
/// The file is a sequence of chunks, each `[UInt32 length][AES-GCM sealed box]` holding whole records; each record is
/// a value count followed by tagged values (``StageCodec``). Batches may bring new fields (JSON sources): the stage
/// keeps the union schema, appending fields as they appear, and unifies types; the reader pads records written before
/// a field appeared with nulls.
final class StageWriter {
    private let sink: FileSink
    private let key: SymmetricKey
    // Used by the extracting task only; the per-value state skips dynamic exclusivity checks.
    @exclusivity(unchecked) private var buffer: [UInt8] = []
    @exclusivity(unchecked) private(set) var schema = Schema()
    @exclusivity(unchecked) private(set) var records = 0
    /// Positions that have had a non-null value (their type is then known).
    @exclusivity(unchecked) private var typed: [Bool] = []

    init(path: String, key: SymmetricKey) throws(SourceError) {
        do {
            sink = try FileSink(path: path, exclusive: false, mode: 0o600)
        } catch {
            throw SourceError("cannot stage the extract: \(error.description)")
        }
        self.key = key
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
            if typed.count < schema.count { typed += Array(repeating: false, count: schema.count - typed.count) }
            for (position, value) in record.enumerated() {
                guard let type = value.type else { continue }
                let target = identity ? position : mapping[position]
                if !typed[target] {
                    typed[target] = true
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

    /// Seals the buffered records as one chunk.
    private func flush() throws(SourceError) {
        guard !buffer.isEmpty else { return }
        do {
            let sealed = try AES.GCM.seal(buffer, using: key).combined!
            let length = UInt32(sealed.count)
            try sink.write([UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 24)])
            try sink.write(sealed)
        } catch let error as FileSinkError {
            throw SourceError("cannot stage the extract: \(error.description)")
        } catch {
            throw SourceError("cannot encrypt the staged extract")
        }
        buffer.removeAll(keepingCapacity: true)
    }

    func finish() throws(SourceError) {
        try flush()
        do { try sink.sync() } catch { throw SourceError("cannot stage the extract: \(error.description)") }
    }
}

/// Reads a stage back in batches, typed by the stage's final schema, decrypting chunk by chunk. With `positions`, only
/// the values at those positions are decoded; the others are skipped and read as nulls (what a governance pass does
/// not read it need not decode).
/// `@unchecked`: its only non-`Sendable` part is the `SymmetricKey`, an immutable value never mutated after creation.
struct StageReader: AsyncSequence, @unchecked Sendable {
    typealias Element = RecordBatch
    let path: String
    let schema: Schema
    let batchSize: Int
    let key: SymmetricKey
    var positions: Set<Int>? = nil

    func makeAsyncIterator() -> Iterator {
        Iterator(path: path, schema: schema, batchSize: batchSize, key: key, positions: positions)
    }

    /// The same stage, decoding only `positions` (all when `nil`).
    func reading(_ positions: Set<Int>?) -> StageReader {
        var copy = self
        copy.positions = positions
        return copy
    }

    struct Iterator: AsyncIteratorProtocol {
        let schema: Schema
        let batchSize: Int
        let key: SymmetricKey
        /// Per position, whether to decode it (`nil`: every position).
        let decoded: [Bool]?
        let file: ByteReader?
        let openError: SourceError?
        var chunk: ByteReader?

        init(path: String, schema: Schema, batchSize: Int, key: SymmetricKey, positions: Set<Int>?) {
            self.schema = schema
            self.batchSize = batchSize
            self.key = key
            decoded = positions.map { positions in schema.fields.indices.map { positions.contains($0) } }
            do {
                file = try ByteReader(path: path)
                openError = nil
            } catch {
                file = nil
                openError = error
            }
        }

        /// The reader over the current decrypted chunk, moving to the next chunk when one is used up.
        private mutating func currentChunk() throws -> ByteReader? {
            if let chunk, try chunk.peek() != nil { return chunk }
            guard let file, let header = try file.read(count: 4) else { return nil }
            let length = Int(header[0]) | Int(header[1]) << 8 | Int(header[2]) << 16 | Int(header[3]) << 24
            guard let sealed = try file.read(count: length) else { throw StageCodec.corrupt }
            let plain: Data
            do {
                plain = try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: key)
            } catch {
                throw SourceError("the staged extract cannot be decrypted (damaged, or its key was destroyed)")
            }
            chunk = ByteReader(bytes: [UInt8](plain), label: "stage")
            return chunk
        }

        mutating func next() async throws -> RecordBatch? {
            try Task.checkCancellation()
            if let openError { throw openError }
            var records: [Record] = []
            records.reserveCapacity(batchSize)
            let width = schema.count
            let types = schema.fields.map(\.type)
            while records.count < batchSize, let reader = try currentChunk() {
                let count = Int(try StageCodec.readVarint(from: reader))
                var record = Record()
                record.reserveCapacity(width)
                if let decoded {
                    for position in 0..<count {
                        if decoded[position] {
                            record.append(StageCodec.conform(try StageCodec.read(from: reader), to: types[position]))
                        } else {
                            try StageCodec.skip(from: reader)
                            record.append(.null)
                        }
                    }
                } else {
                    for position in 0..<count {
                        record.append(StageCodec.conform(try StageCodec.read(from: reader), to: types[position]))
                    }
                }
                if count < width { record += repeatElement(Value.null, count: width - count) }
                records.append(record)
            }
            return records.isEmpty ? nil : RecordBatch(schema: schema, records: records)
        }
    }
}
