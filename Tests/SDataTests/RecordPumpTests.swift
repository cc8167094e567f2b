import Foundation
import Synchronization
import Testing
import SDataCore
import SDataPluginAPI

/// The record pump reads on a thread of its own: order and errors must come through as if it did not, and a caller
/// that stops must stop the thread.
struct RecordPumpTests {
    final class Counter: @unchecked Sendable {
        let value = Mutex(0)
        func next() -> Int { value.withLock { $0 += 1; return $0 } }
        var count: Int { value.withLock { $0 } }
    }

    @Test func recordsArriveInOrderAcrossChunks() async throws {
        let stream = RecordStream(), counter = Counter()
        let total = 10_007
        let emitting = Task {
            try await RecordPump.emit(into: stream.writer, batchSize: 100) { () throws(SourceError) in
                let n = counter.next()
                return n <= total ? [("n", .integer(Int64(n))), ("t", .string("v\(n)"))] : nil
            }
        }
        var seen: [Int64] = []
        for try await batch in stream {
            #expect(batch.schema.names == ["n", "t"])
            seen += batch.records.map { if case .integer(let n) = $0[0] { n } else { -1 } }
            if seen.count >= total { break }
        }
        try await emitting.value
        #expect(seen == (1 ... Int64(total)).map { $0 })
    }

    @Test func aReaderErrorFailsTheEmit() async throws {
        let stream = RecordStream(), counter = Counter()
        let emitting = Task {
            try await RecordPump.emit(into: stream.writer, batchSize: 50) { () throws(SourceError) in
                let n = counter.next()
                if n == 777 { throw SourceError("feed.xml:12: malformed XML") }
                return [("n", .integer(Int64(n)))]
            }
        }
        let draining = Task { for try await _ in stream {} }
        await #expect(throws: SourceError.self) { try await emitting.value }
        draining.cancel()
    }

    @Test func aCallerThatStopsStopsTheThread() async throws {
        let stream = RecordStream(), counter = Counter()
        let emitting = Task {
            try await RecordPump.emit(into: stream.writer, batchSize: 10) { () throws(SourceError) in
                _ = counter.next()
                return [("n", .integer(1))]
            }
        }
        // Nobody takes the batches: the pump fills its two chunks and waits.
        try await Task.sleep(for: .milliseconds(200))
        let waiting = counter.count
        #expect(waiting <= 60, "the reader ran ahead: \(waiting) records")
        emitting.cancel()
        _ = try? await emitting.value
        try await Task.sleep(for: .milliseconds(200))
        let after = counter.count
        try await Task.sleep(for: .milliseconds(200))
        #expect(counter.count == after, "the reader thread kept reading after the caller stopped")
    }
}

/// Field types unify over the records seen: a null takes none, integers and numbers make a number, other mixes a string.
struct BatchBuilderTypeTests {
    @Test func typesUnifyAcrossRecords() {
        var builder = BatchBuilder(capacity: 10)
        builder.append([("a", .null), ("b", .integer(1)), ("c", .string("x"))])
        builder.append([("a", .integer(2)), ("b", .number(1.5)), ("c", .integer(3))])
        builder.append([("a", .integer(4)), ("b", .integer(2)), ("c", .null), ("d", .string("y"))])
        builder.append([("b", .string("z")), ("a", .null)])
        let batch = builder.take()
        #expect(batch.schema.names == ["a", "b", "c", "d"])
        #expect(batch.schema.fields.map(\.type) == [.integer, .string, .string, .string])
        #expect(batch.records.count == 4)
        #expect(batch.records[3] == [.null, .string("z"), .null, .null])
    }

    @Test func aNumberAfterIntegersMakesANumber() {
        var builder = BatchBuilder(capacity: 10)
        builder.append([("a", .integer(1))])
        builder.append([("a", .number(2.5))])
        builder.append([("a", .integer(3))])
        #expect(builder.take().schema.fields.map(\.type) == [.number])
    }
}
