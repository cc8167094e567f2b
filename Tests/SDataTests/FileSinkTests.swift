import Foundation
import Testing
import Crypto
import SDataCore
import CSDataIntrinsics

/// The file sink under every write pattern the catalog uses: small appends, large arrays, sealed blocks passed
/// straight through, explicit flushes, and the switch to `O_DIRECT` at an unaligned offset. The file on disk and
/// the bytes its observer saw must both equal what was written.
struct FileSinkTests {
    /// Whether `directory`'s file system takes an aligned `O_DIRECT` write (tmpfs and some overlays refuse it).
    static func takesDirectWrites(in directory: String) -> Bool {
        let path = directory + "/probe"
        defer { unlink(path) }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        guard sdata_open_direct() != 0,
              fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | sdata_open_direct()) == 0 else {
            return false
        }
        let block = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
        defer { block.deallocate() }
        return write(descriptor, block, 4096) == 4096
    }

    /// Writes a seeded mix of patterns; returns what was written, what the observer saw and whether the sink went
    /// direct on the way.
    static func writePattern(to path: String, seed: UInt64, total: Int, direct: Bool,
                             threshold: Int) throws -> (expected: [UInt8], observed: [UInt8], wentDirect: Bool) {
        var random = SplitMix(seed: seed)  // seeded: a failing pattern can be replayed
        var expected: [UInt8] = []
        expected.reserveCapacity(total + (2 << 20))
        let observed = Observed()
        let sink = try FileSink(path: path, direct: direct, directThreshold: threshold) { block in
            observed.bytes.append(contentsOf: block)
        }
        var wentDirect = false
        var counter: UInt8 = 0
        func next(_ count: Int) -> [UInt8] {
            (0..<count).map { _ in counter &+= 1; return counter ^ UInt8(truncatingIfNeeded: random.next()) }
        }
        while expected.count < total {
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<5:
                // A row: a few to a few hundred bytes, through each small-write entry point.
                let bytes = next(Int.random(in: 1...300, using: &random))
                if Bool.random(using: &random) { try sink.write(bytes[...]) } else { try sink.write(bytes) }
                expected += bytes
            case 5:
                let text = String(repeating: "é,ü;", count: Int.random(in: 1...50, using: &random))
                try sink.write(text)
                expected += Array(text.utf8)
            case 6, 7:
                // A large array: at least half the buffer skips it when the sink is not direct.
                let bytes = next(Int.random(in: (400 << 10)...(1_600 << 10), using: &random))
                try sink.write(bytes)
                expected += bytes
            case 8:
                // A sealed block of odd length, passed straight through.
                let bytes = next(Int.random(in: 1...(900 << 10), using: &random))
                try bytes.withUnsafeBytes { try sink.writeDirect($0) }
                expected += bytes
            default:
                try sink.flush()
            }
            wentDirect = wentDirect || sink.isDirect
            #expect(sink.bytesWritten <= expected.count)
        }
        try sink.sync()
        #expect(sink.bytesWritten == expected.count)
        #expect(!sink.isDirect, "the last partial block goes through the page cache")
        return (expected, observed.bytes, wentDirect)
    }

    final class Observed { var bytes: [UInt8] = [] }

    /// The offset where `a` and `b` first differ (a length difference counts), nil if they are equal: a failure
    /// then reports a position instead of megabytes of bytes.
    static func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> Int? {
        if let index = a.indices.first(where: { $0 < b.count && a[$0] != b[$0] }) { return index }
        return a.count == b.count ? nil : min(a.count, b.count)
    }

    /// `/dev/shm` is tmpfs: it may refuse `O_DIRECT`, and the sink must then stay buffered with the same output.
    @Test(arguments: [(UInt64(1), false), (2, false), (3, false), (4, true), (5, true)])
    func directOutputIsByteIdenticalAcrossTheSwitch(seed: UInt64, onTmpfs: Bool) throws {
        let directory: String
        if onTmpfs {
            guard FileManager.default.fileExists(atPath: "/dev/shm") else { return }
            directory = "/dev/shm/sdata-test-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } else {
            directory = try TestSupport.temporaryDirectory()
        }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/out.csv"
        // An unaligned threshold, a few buffers in: the switch needs a pad, then whole blocks, then a tail.
        let threshold = 3 << 20 | Int(seed * 977 % 4096)
        let run = try FileSinkTests.writePattern(to: path, seed: seed, total: 12 << 20, direct: true,
                                                 threshold: threshold)
        let onDisk = try #require(FileManager.default.contents(atPath: path))
        #expect(onDisk.count == run.expected.count)
        #expect(FileSinkTests.firstDifference(Array(onDisk), run.expected) == nil,
                "the file on disk differs from what was written")
        #expect(FileSinkTests.firstDifference(run.observed, run.expected) == nil,
                "the checksum saw different bytes from those written")
        #expect(SHA256Digest.of(onDisk) == Array(SHA256.hash(data: run.observed)))
        #expect(run.wentDirect == FileSinkTests.takesDirectWrites(in: directory),
                "direct I/O should be used exactly where the file system takes it")
    }

    @Test func linuxHasDirectIO() {
        #if os(Linux)
        #expect(sdata_open_direct() != 0, "O_DIRECT must come through from <fcntl.h> (_GNU_SOURCE)")
        #endif
    }

    @Test func aSinkNotAskedForDirectIOStaysBuffered() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/scratch"
        let run = try FileSinkTests.writePattern(to: path, seed: 9, total: 6 << 20, direct: false, threshold: 0)
        #expect(!run.wentDirect)
        let onDisk = Array(try #require(FileManager.default.contents(atPath: path)))
        #expect(FileSinkTests.firstDifference(onDisk, run.expected) == nil)
        #expect(FileSinkTests.firstDifference(run.observed, run.expected) == nil)
    }

    @Test func aSmallDirectFileNeverLeavesThePageCache() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/small.csv"
        let sink = try FileSink(path: path, direct: true)
        try sink.write("id,name\n1,a\n")
        try sink.flush()
        #expect(!sink.isDirect)
        #expect(sink.bytesWritten == 12)
        try sink.sync()
        #expect(try TestSupport.read(path) == "id,name\n1,a\n")
    }

    /// `/dev/full` answers every write with ENOSPC: the message says so, names the path and shows no data, with
    /// and without an observer (the catalog's outputs always have one: their checksum).
    @Test(arguments: [false, true], [false, true])
    func aFullDiskIsNamedWithoutTheData(direct: Bool, observed: Bool) throws {
        guard FileManager.default.fileExists(atPath: "/dev/full") else { return }
        let sink = try FileSink(path: "/dev/full", exclusive: false, direct: direct, directThreshold: 0,
                                observer: observed ? { _ in } : nil)
        let secret = Array(String(repeating: "010-1234-5678 홍길동\n", count: 100_000).utf8)
        let error = #expect(throws: FileSinkError.self) {
            try sink.write(secret)
            try sink.sync()
        }
        let message = try #require(error).description
        #expect(message.contains("'/dev/full'"))
        #expect(message.contains("the disk is full"))
        #expect(!message.contains("1234"))
        #expect(!message.contains("홍길동"))
    }

    /// A disk that fills while a direct write is in flight on the sink's queue: the next flush or the sync throws
    /// the full-disk error. A 2 MiB tmpfs (which takes `O_DIRECT`) stands in for the disk; mounting needs root,
    /// which CI has.
    @Test(.enabled(if: getuid() == 0, "mounting a small tmpfs needs root"))
    func aDiskFillingUnderADirectWriteFailsTheSink() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let mounted = try TestSupport.execute("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", directory])
        try #require(mounted.status == 0, "mount: \(mounted.stderr)")
        defer { _ = try? TestSupport.execute("/usr/bin/umount", ["--lazy", directory]) }
        let takesDirect = FileSinkTests.takesDirectWrites(in: directory)
        let path = directory + "/out.csv"
        // The sink lives only inside this closure: its descriptor is closed before the file system is unmounted.
        let (error, wentDirect) = try { () throws -> (FileSinkError?, Bool) in
            let sink = try FileSink(path: path, direct: true, directThreshold: 0)
            // 64-byte rows, 4 MiB in all: whole blocks only, so no partial block is left for the sync to write and
            // only the direct writes meet the full disk.
            let row = Array("2020-11-03T14:25:07+09:00,010-1234-5678,37.562,126.978,xyz-1234\n".utf8)
            try #require(row.count == 64)
            var wentDirect = false
            let error = #expect(throws: FileSinkError.self) {
                for _ in 0..<(4 << 20) / row.count {
                    try sink.write(row)
                    wentDirect = wentDirect || sink.isDirect
                }
                try sink.sync()
            }
            return (error, wentDirect)
        }()
        #expect(wentDirect == takesDirect)
        let message = try #require(error).description
        #expect(message == "cannot write '\(path)': the disk is full")
    }

    @Test func anExistingFileIsNotOverwrittenByAnExclusiveSink() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/published.csv"
        try TestSupport.write("already published\n", to: path)
        #expect(throws: FileSinkError.self) { _ = try FileSink(path: path, direct: true) }
        #expect(try TestSupport.read(path) == "already published\n")
    }
}
