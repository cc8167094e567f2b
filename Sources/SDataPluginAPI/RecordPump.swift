import Foundation
public import SDataCore

/// Runs a blocking record reader (libxml2's SAX2 parser, the JSON stream reader) on a thread of its own while the
/// calling task decodes its chunks of records, gathers them into batches and hands them on: reading and batching then
/// use two cores instead of taking turns on one. At most two chunks of about `batchSize` records wait between them
/// (back-pressure), so memory stays flat; order is kept. When the caller stops early (a write failed, the run was cancelled) the thread stops
/// at its next chunk and releases the reader.
public enum RecordPump {
    /// Emits the records `next` returns until it returns `nil`; returns the number of records emitted.
    @discardableResult
    public static func emit(into writer: RecordWriter, batchSize: Int,
                            _ next: @escaping () throws(SourceError) -> [(String, Value)]?) async throws -> Int {
        let records = RecordList.Reader(next)
        return try await emit(into: writer, batchSize: batchSize) { limit throws(SourceError) in try records.read(limit) }
    }

    /// Emits the records of the chunks `read` returns (each at most the given number of records) until it returns
    /// `nil`. `read` runs on the pump's thread; decoding a chunk's records, and `transform`, on the calling task.
    @discardableResult
    public static func emit<Chunk: RecordChunk>(
        into writer: RecordWriter, batchSize: Int,
        transform: (([(String, Value)]) -> [(String, Value)])? = nil,
        _ read: @escaping (Int) throws(SourceError) -> Chunk?
    ) async throws -> Int {
        let pump = Pump(chunk: max(1, batchSize), read: read)
        defer { pump.stop() }
        var builder = BatchBuilder(capacity: batchSize)
        var count = 0
        try await withTaskCancellationHandler {
            for try await chunk in pump.stream {
                pump.taken()
                count += chunk.count
                for index in 0 ..< chunk.count {
                    let fields = chunk.record(at: index)
                    builder.append(transform?(fields) ?? fields)
                    if builder.isFull { try await writer.write(builder.take()) }
                }
            }
        } onCancel: {
            pump.stop()
        }
        try Task.checkCancellation()
        try await writer.write(builder.take())
        return count
    }
}

/// Records handed over together by a ``RecordPump``'s reading thread.
public protocol RecordChunk: Sendable {
    var count: Int { get }
    /// Record `index`'s fields in source order.
    func record(at index: Int) -> [(String, Value)]
}

extension XMLRecordChunk: RecordChunk {}

/// Records already decoded, as a record-at-a-time reader produces them.
struct RecordList: RecordChunk {
    var records: [[(String, Value)]]
    var count: Int { records.count }
    func record(at index: Int) -> [(String, Value)] { records[index] }

    /// Gathers a record-at-a-time reader's records into lists; never calls it again once it has returned `nil`.
    final class Reader {
        private let next: () throws(SourceError) -> [(String, Value)]?
        private var done = false

        init(_ next: @escaping () throws(SourceError) -> [(String, Value)]?) { self.next = next }

        func read(_ limit: Int) throws(SourceError) -> RecordList? {
            var records: [[(String, Value)]] = []
            records.reserveCapacity(limit)
            while !done, records.count < limit {
                guard let record = try next() else {
                    done = true
                    break
                }
                records.append(record)
            }
            return records.isEmpty ? nil : RecordList(records: records)
        }
    }
}

private final class Pump<Chunk: RecordChunk>: @unchecked Sendable {
    let stream: AsyncThrowingStream<Chunk, any Error>
    private let continuation: AsyncThrowingStream<Chunk, any Error>.Continuation
    private let slots = DispatchSemaphore(value: 2)
    private let lock = NSLock()
    private var stopped = false

    init(chunk size: Int, read: @escaping (Int) throws(SourceError) -> Chunk?) {
        (stream, continuation) = AsyncThrowingStream.makeStream(of: Chunk.self)
        nonisolated(unsafe) let read = read
        let thread = Thread { [self] in
            do {
                while let chunk = try read(size) {
                    slots.wait()
                    if isStopped { return }
                    continuation.yield(chunk)
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        thread.name = "sdata.records"
        thread.stackSize = 1 << 23
        thread.start()
    }

    private var isStopped: Bool { lock.withLock { stopped } }

    /// The caller took a chunk: room for another.
    func taken() { slots.signal() }

    func stop() {
        lock.withLock { stopped = true }
        slots.signal()
        continuation.finish()
    }
}
