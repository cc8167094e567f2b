import Foundation
public import SDataCore

/// Runs a blocking record reader (libxml2's pull parser, the JSON stream reader) on a thread of its own while the
/// calling task gathers its records into batches and hands them on: reading and batching then use two cores instead
/// of taking turns on one. At most two chunks of `batchSize` records wait between them (back-pressure), so memory
/// stays flat; order is kept. When the caller stops early (a write failed, the run was cancelled) the thread stops
/// at its next chunk and releases the reader.
public enum RecordPump {
    /// Returns the number of records emitted.
    @discardableResult
    public static func emit(into writer: RecordWriter, batchSize: Int,
                            _ next: @escaping () throws(SourceError) -> [(String, Value)]?) async throws -> Int {
        let pump = Pump(chunk: max(1, batchSize), next: next)
        defer { pump.stop() }
        var builder = BatchBuilder(capacity: batchSize)
        var count = 0
        try await withTaskCancellationHandler {
            for try await records in pump.stream {
                pump.taken()
                count += records.count
                for fields in records {
                    builder.append(fields)
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

private final class Pump: @unchecked Sendable {
    typealias Chunk = [[(String, Value)]]
    let stream: AsyncThrowingStream<Chunk, any Error>
    private let continuation: AsyncThrowingStream<Chunk, any Error>.Continuation
    private let slots = DispatchSemaphore(value: 2)
    private let lock = NSLock()
    private var stopped = false

    init(chunk size: Int, next: @escaping () throws(SourceError) -> [(String, Value)]?) {
        (stream, continuation) = AsyncThrowingStream.makeStream(of: Chunk.self)
        nonisolated(unsafe) let next = next
        let thread = Thread { [self] in
            do {
                var done = false
                while !done {
                    var chunk: Chunk = []
                    chunk.reserveCapacity(size)
                    while chunk.count < size {
                        guard let record = try next() else {
                            done = true
                            break
                        }
                        chunk.append(record)
                    }
                    slots.wait()
                    if isStopped { return }
                    if !chunk.isEmpty { continuation.yield(chunk) }
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
