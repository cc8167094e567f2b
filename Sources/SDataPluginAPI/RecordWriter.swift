public import SDataCore
public import AsyncAlgorithms

/// Where a source puts its batches. ``write(_:)`` suspends until the consumer has taken the previous batch, so a fast
/// source never runs ahead of staging: memory holds at most a batch or two.
public struct RecordWriter: Sendable {
    let channel: AsyncThrowingChannel<RecordBatch, any Error>

    /// Sends a batch; returns when the consumer has taken it. Empty batches are skipped.
    public func write(_ batch: RecordBatch) async throws {
        guard !batch.isEmpty else { return }
        try Task.checkCancellation()
        await channel.send(batch)
    }
}

/// A source's output as an `AsyncSequence` of batches with back-pressure.
///
/// ``start(_:context:)`` runs the plugin in a child task; iterating the stream drives it. The stream ends when the
/// plugin returns and rethrows when it throws.
public struct RecordStream: AsyncSequence, Sendable {
    public typealias Element = RecordBatch
    private let channel: AsyncThrowingChannel<RecordBatch, any Error>

    /// Produces a stream fed by `body`, which is given the writer. Call ``run()`` in a task to feed it.
    public init() {
        channel = AsyncThrowingChannel()
    }

    public var writer: RecordWriter { RecordWriter(channel: channel) }

    /// Runs `source`, finishing the stream when it returns and failing it when it throws.
    public func feed(from source: any SourcePlugin, context: SourceContext) async {
        do {
            try await source.run(into: writer, context: context)
            channel.finish()
        } catch {
            channel.fail(error)
        }
    }

    public func makeAsyncIterator() -> AsyncThrowingChannel<RecordBatch, any Error>.Iterator {
        channel.makeAsyncIterator()
    }
}
