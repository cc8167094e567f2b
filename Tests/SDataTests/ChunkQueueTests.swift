import Dispatch
import Foundation
import Testing
@testable import SDataRunner

/// The columnar engine's pass-1 queue: a lane takes the next chunk as soon as it is free, each chunk runs once, a
/// lane sees its chunks in input order, and closing ends the lanes' loops.
struct ChunkQueueTests {
    /// What the lanes did: per job, the lane that ran it; per lane, the jobs in the order it ran them.
    final class Log: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var ranBy: [Int: Int] = [:]
        private(set) var byLane: [Int: [Int]] = [:]
        func record(job: Int, lane: Int) {
            lock.withLock {
                ranBy[job, default: -1] = ranBy[job] == nil ? lane : -2
                byLane[lane, default: []].append(job)
            }
        }
    }

    /// Starts `lanes` loops over `queue` as the engine does; `ended` is signalled once per loop that returns.
    static func startLanes(_ lanes: Int, on queue: ChunkQueue, ended: DispatchSemaphore) {
        for number in 0 ..< lanes {
            DispatchQueue(label: "test.lane\(number)").async {
                while let job = queue.next() { job(number) }
                ended.signal()
            }
        }
    }

    @Test func aBusyLaneDoesNotHoldBackTheOthers() {
        // The first chunk's lane is held until every other chunk is done: a fixed turn (chunk i on lane i mod 2)
        // would leave chunk 2 waiting behind it, and the wait below would time out.
        let queue = ChunkQueue(), ended = DispatchSemaphore(value: 0), log = Log()
        let count = 200
        let othersDone = DispatchSemaphore(value: 0)
        let remaining = LockedCounter(count - 1)
        nonisolated(unsafe) var firstWaited = DispatchTimeoutResult.timedOut
        let lanes = 2
        ChunkQueueTests.startLanes(lanes, on: queue, ended: ended)
        for job in 0 ..< count {
            queue.push { lane in
                if job == 0 {
                    firstWaited = othersDone.wait(timeout: .now() + 20)
                } else if remaining.decrement() == 0 {
                    othersDone.signal()
                }
                log.record(job: job, lane: lane)
            }
        }
        queue.close(workers: lanes)
        for _ in 0 ..< lanes {
            #expect(ended.wait(timeout: .now() + 30) == .success, "a lane's loop did not end after close")
        }
        #expect(firstWaited == .success, "the other chunks waited for the busy lane")
        #expect(log.ranBy.count == count)
        #expect(log.ranBy.values.allSatisfy { $0 >= 0 }, "a chunk ran twice")
        let first = log.ranBy[0]!
        #expect(log.byLane[first] == [0], "the busy lane took another chunk while it was busy")
        for (_, jobs) in log.byLane {
            #expect(jobs == jobs.sorted(), "a lane took its chunks out of input order")
        }
    }

    @Test func everyChunkRunsOnceAndClosingEndsTheLoops() {
        let queue = ChunkQueue(), ended = DispatchSemaphore(value: 0), log = Log()
        let lanes = 3, count = 5_000
        ChunkQueueTests.startLanes(lanes, on: queue, ended: ended)
        for job in 0 ..< count {
            queue.push { lane in log.record(job: job, lane: lane) }
        }
        queue.close(workers: lanes)
        for _ in 0 ..< lanes {
            #expect(ended.wait(timeout: .now() + 30) == .success)
        }
        #expect(Set(log.ranBy.keys) == Set(0 ..< count))
        #expect(log.ranBy.values.allSatisfy { $0 >= 0 && $0 < lanes })
        #expect(log.byLane.values.reduce(0) { $0 + $1.count } == count)
        for (_, jobs) in log.byLane { #expect(jobs == jobs.sorted()) }
    }
}

/// A counter decremented from several threads.
final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int
    init(_ value: Int) { self.value = value }
    /// Decrements and returns the new value.
    func decrement() -> Int { lock.withLock { value -= 1; return value } }
}
