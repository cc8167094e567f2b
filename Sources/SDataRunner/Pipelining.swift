import AsyncAlgorithms
import SDataCore
import SDataGovernance
import SDataCatalog

/// The two passes over the stage run as a pipeline across cores: the stage is decrypted and decoded one batch ahead
/// in a task of its own, and distributions are written in another, while the current task governs (or observes).
/// Channels give back-pressure: at most one batch waits between two steps, so memory does not grow with the input.
/// Order is kept (one producer, one consumer per channel), so output is byte-identical to a sequential run.
enum Pipelining {
    /// Calls `body` with each batch of `stage`, the next batch being read meanwhile.
    static func forEachBatch(of stage: StageReader, _ body: (RecordBatch) async throws -> Void) async throws {
        let channel = AsyncThrowingChannel<RecordBatch, any Error>()
        let producer = Task {
            do {
                for try await batch in stage { await channel.send(batch) }
                channel.finish()
            } catch {
                channel.fail(error)
            }
        }
        defer { producer.cancel() }
        try await withTaskCancellationHandler {
            for try await batch in channel { try await body(batch) }
        } onCancel: {
            producer.cancel()
        }
        // A cancelled consumer sees the channel end early: that is not the end of the stage.
        try Task.checkCancellation()
    }

    /// Writes governed batches to every writer in a task of its own; ``finish()`` waits for it and reports the first
    /// write error (after one, later batches are drained unwritten so that the sender never blocks).
    final class WriterTask: @unchecked Sendable {
        private let channel = AsyncChannel<GovernedBatch>()
        private let task: Task<(any Error)?, Never>

        /// `writers` are used by the writing task only, from now on.
        init(_ writers: [any FormatWriter]) {
            let channel = channel
            nonisolated(unsafe) let writers = writers
            task = Task {
                var failure: (any Error)?
                for await batch in channel where failure == nil {
                    do {
                        for writer in writers { try writer.write(batch) }
                    } catch {
                        failure = error
                    }
                }
                return failure
            }
        }

        func send(_ batch: GovernedBatch) async {
            await channel.send(batch)
        }

        /// Ends the stream and waits for every batch to be written.
        func finish() async throws {
            channel.finish()
            if let failure = await task.value { throw failure }
        }

        /// Stops writing (a failed or cancelled run); the draft is discarded by the caller.
        func abandon() async {
            channel.finish()
            _ = await task.value
        }
    }
}
