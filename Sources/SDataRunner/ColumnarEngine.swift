#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Crypto
import Dispatch
import Foundation
import SDataCore
import SDataPluginAPI
import SDataGovernance
import SDataCatalog

/// The columnar engine: a delimited file governed in record-aligned chunks on every core.
///
/// Pass 1 reads the file in chunks of about ``chunkSize`` bytes cut at record boundaries, seals each chunk's raw text
/// into the encrypted stage (AES-GCM, the run's key) when the stage is kept (``durableStage``) and, on one of ``lanes`` workers: checks it is UTF-8, parses it
/// into field spans, runs every rule's byte kernel, counts each row's k-anonymity class (counts, not rows), finds what
/// the PII gate would report and formats the rows as CSV, sealed into a governed file beside the stage. Pass 2, when
/// the class sizes of the whole run are known, reads the governed file back and per chunk on the workers: decrypts,
/// drops the rows of small classes (and, with `pii_gate: suppress`, those with findings), counts the findings of the
/// rows kept; a writer thread writes them to each output in input order (so the result is byte-identical to a
/// sequential run) and checksums them on the way, while the workers open the next chunks. At most ``window`` chunks
/// are in flight at once (and two windows wait for the writer), so memory stays flat whatever the input size.
final class ColumnarEngine {
    /// Why the row engine must run instead (said in the run log).
    struct Unsupported: Error { let reason: String }

    let file: DelimitedFile
    let stagePath: String
    let key: SymmetricKey
    let lanes: Int
    let chunkSize: Int
    let progress: (RunPhase, Int) -> Void
    let cancelled: () -> Bool
    /// Whether the stage outlives the run (raw retention): then the raw text is staged and synced to disk like any
    /// kept file. A stage the run would destroy at its end is never read (pass 2 reads the governed file), so it is
    /// not written: no raw personal data reaches the disk at all.
    var durableStage = true
    private(set) var rowsIn = 0

    init(file: DelimitedFile, stagePath: String, key: SymmetricKey, lanes: Int, chunkSize: Int = 1 << 21,
         progress: @escaping (RunPhase, Int) -> Void, cancelled: @escaping () -> Bool) {
        self.file = file
        self.stagePath = stagePath
        self.key = key
        self.lanes = max(1, lanes)
        self.chunkSize = chunkSize
        self.progress = progress
        self.cancelled = cancelled
    }

    private var window: Int { lanes * 2 }

    // MARK: - The header

    /// The field names (from the header, or `column_N`) and the byte offset where the records start.
    func readHeader() throws -> (schema: Schema, dataOffset: Int, headerLines: Int) {
        let input = try MappedInput(path: file.path)
        let head = input.bytes
        var offset = 0
        if head.starts(with: [0xEF, 0xBB, 0xBF]) { offset = 3 }
        // The header record ends at the first line feed with an even number of quotes before it.
        guard let cut = DelimitedChunk.cut(UnsafeBufferPointer(rebasing: head[offset...]), quote: file.quote, first: true) else {
            throw Unsupported(reason: "the file holds no complete record")
        }
        var chunk = DelimitedChunk(bytes: Array(head[offset ..< offset + cut]), width: 0)
        guard chunk.parse(delimiter: file.delimiter, quote: file.quote, isLast: false) == .parsed,
              chunk.rows == 1, String(validating: chunk.text, as: UTF8.self) != nil else {
            throw Unsupported(reason: "the header is not plain RFC 4180 text")
        }
        var names: [String] = []
        for column in 0 ..< chunk.width {
            names.append(chunk.withField(0, column) { String(decoding: $0, as: UTF8.self) })
        }
        if file.header {
            var seen = Set<String>()
            for name in names where !seen.insert(name).inserted {
                throw SourceError("\(file.path):1: the header names field '\(name)' twice")
            }
            return (Schema(names.map { Field(name: $0, type: .string) }), offset + cut, chunk.lineFeeds)
        }
        let generated = (1 ... names.count).map { Field(name: "column_\($0)", type: .string) }
        return (Schema(generated), offset, 0)
    }

    // MARK: - Pass 1: stage, govern and count

    struct StagedChunk {
        let rows: Int
        let lineFeeds: Int
        /// The lane that governed it: pass 2 finishes it with that lane's class ids and finding sets.
        let lane: Int
    }

    /// Where pass 1 leaves the governed rows for pass 2: beside the stage, sealed with the same key, deleted when
    /// pass 2 is done.
    var governedPath: String { stagePath + ".governed" }

    /// Reads the file into the stage and governs it on the lanes: returns each chunk's row count, in order.
    ///
    /// Each chunk's raw text is sealed into the stage as read (`[UInt32 length][AES-GCM combined]`), and the chunk is
    /// governed at once — every rule's kernel, the k-anonymity class counted, the PII gate's findings, the rows
    /// formatted in each dialect — into the governed file: per chunk a sealed box of ``GovernedChunk/meta``, then one
    /// per dialect with the formatted rows. Pass 2 needs only that file and the class sizes.
    func stage(schema: Schema, dataOffset: Int, headerLines: Int, lanes laneStates: [ColumnarLane],
               dialects: [ColumnarLane.Dialect]) throws -> [StagedChunk] {
        let input = try MappedInput(path: file.path)
        // A stage destroyed when the run ends would be written and never read: only a kept one is written.
        let sink = durableStage ? try StageFile(path: stagePath) : nil
        // Deleted after pass 2, never synced: its pages need not reach the disk (that bandwidth is the outputs').
        let governed = try StageFile(path: governedPath, scratch: true)
        // A failed pass deletes the governed file at once (after the writer stops): it is sealed, and on a full
        // disk the space it holds is what the clean-up's store writes need.
        var passed = false
        defer { if !passed { unlink(governedPath) } }
        let writing = BackgroundWriter()
        defer { writing.drain() }
        var staged: [StagedChunk] = []
        var line = 1 + headerLines
        // Chunks flow through the lanes without a barrier between windows: each lane is a thread of its own (a
        // serial queue) that takes the next chunk as soon as it is free (``ChunkQueue``), so a lane's state is used
        // by one thread at a time; this thread cuts the next chunks meanwhile and takes the results in input order,
        // at most `window` chunks ahead. A fixed chunk-to-lane order made both cores wait for the slower lane
        // whenever one core was shared.
        let jobs = ChunkQueue()
        for number in laneStates.indices {
            DispatchQueue(label: "sdata.columnar.lane\(number)").async {
                while let job = jobs.next() { job(number) }
            }
        }
        defer { jobs.close(workers: laneStates.count) }
        var inFlight: [(result: ChunkResult, end: Int)] = []
        defer { for pending in inFlight { pending.result.wait() } }
        nonisolated(unsafe) let bytes = input.bytes
        let total = bytes.count
        var position = min(dataOffset, total)

        /// Takes the oldest chunk's result: its writes go to the writer, its pages are released.
        func collect() throws {
            let (pending, end) = inFlight.removeFirst()
            pending.wait()
            switch pending.value! {
            case .success(let (raw, boxes, chunk)):
                try writing.submit {
                    if let raw { try sink?.append(box: raw) }
                    for box in boxes { try governed.append(box: box) }
                }
                staged.append(chunk)
                rowsIn += chunk.rows
                line += chunk.lineFeeds
                input.release(upTo: end)
                progress(.extracting, rowsIn)
            case .failure(let problem as ChunkProblem):
                throw problem.error(path: file.path, width: schema.count, line: line)
            case .failure(let error as ColumnarLane.RecordError):
                throw error.governanceError(rowsBefore: rowsIn)
            case .failure(let error):
                throw error
            }
        }

        while position < total {
            if cancelled() { throw CancellationError() }
            // The next chunk: about `chunkSize` bytes, ending at a record boundary; a record longer than that makes
            // it longer, and one without a boundary to the end of the file is the last.
            input.populate(upTo: position + chunkSize)
            let rest = UnsafeBufferPointer(rebasing: bytes[position...])
            var cut = rest.count
            if rest.count > chunkSize {
                var reach = chunkSize
                while true {
                    if let found = DelimitedChunk.cut(UnsafeBufferPointer(rebasing: rest.prefix(reach)), quote: file.quote) {
                        cut = found
                        break
                    }
                    if reach >= rest.count { break }
                    reach = min(reach * 2, rest.count)
                }
            }
            let text = UnsafeBufferPointer(rebasing: rest.prefix(cut))
            let isLast = position + cut == total
            let result = ChunkResult()
            nonisolated(unsafe) let unsafeText = text, unsafeSink = sink, key = key
            jobs.push { [file, dialects] number in
                let lane = laneStates[number]
                result.value = Result {
                    guard ByteScan.isValidUTF8(unsafeText) else { throw Unsupported(reason: "the file is not valid UTF-8") }
                    let raw = unsafeSink == nil ? nil : try AES.GCM.seal(unsafeText, using: key).combined!
                    var chunk = DelimitedChunk(borrowing: unsafeText, width: schema.count)
                    let outcome = chunk.parse(delimiter: file.delimiter, quote: file.quote, isLast: isLast)
                    guard outcome == .parsed else { throw ChunkProblem(outcome: outcome) }
                    // Rows before this chunk are known only once the earlier chunks are done: errors are numbered
                    // when the result is taken.
                    let governed = try lane.govern(chunk, dialects: dialects)
                    var boxes = [try governed.meta.withUnsafeBytes { try AES.GCM.seal($0, using: key).combined! }]
                    for text in governed.texts { boxes.append(try AES.GCM.seal(text.bytes, using: key).combined!) }
                    return (raw, boxes, StagedChunk(rows: chunk.rows, lineFeeds: chunk.lineFeeds, lane: number))
                }
                result.done.signal()
            }
            inFlight.append((result, position + cut))
            position += cut
            if inFlight.count >= window { try collect() }
        }
        while !inFlight.isEmpty { try collect() }
        try writing.finish()
        try sink?.sync()
        passed = true
        return staged
    }

    // MARK: - Pass 2: keep, drop and write

    /// Writes the governed rows that pass 2 keeps into `writers`, one per dialect, in order; then deletes the
    /// governed file.
    func publish(chunks staged: [StagedChunk], lanes laneStates: [ColumnarLane], classes: ClassCounts?,
                 writers: [CSVWriter]) throws {
        let chunks = staged.count
        let damaged = SourceError("the governed stage is damaged")
        // Mapped like the input: the lanes decrypt from the page cache's pages.
        let input = try MappedInput(path: governedPath)
        // Read once, whatever happens (see `stage`).
        defer { unlink(governedPath) }
        let writing = BackgroundWriter()
        defer { writing.drain() }
        let perChunk = writers.count + 1
        var chunkIndex = 0
        var position = 0
        while chunkIndex < chunks {
            if cancelled() { throw CancellationError() }
            // The window's chunks: per chunk `[UInt32 length][sealed box]` for the meta, then per dialect.
            var boxes: [[UnsafeRawBufferPointer]] = []
            var used = 0
            let raw = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(input.bytes)[position...])
            whole: while boxes.count < window && chunkIndex + boxes.count < chunks {
                var offset = used
                var chunkBoxes: [UnsafeRawBufferPointer] = []
                for _ in 0 ..< perChunk {
                    guard offset + 4 <= raw.count else { break whole }
                    let length = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                    guard offset + 4 + length <= raw.count else { break whole }
                    chunkBoxes.append(UnsafeRawBufferPointer(rebasing: raw[offset + 4 ..< offset + 4 + length]))
                    offset += 4 + length
                }
                boxes.append(chunkBoxes)
                used = offset
            }
            guard !boxes.isEmpty else { throw damaged }
            defer {
                position += used
                input.release(upTo: position)
            }
            let start = chunkIndex
            let results = parallel(boxes.count, lane: { staged[start + $0].lane }) { index -> Result<[(OpenedBox, Int)], any Error> in
                Result {
                    var opened: [OpenedBox] = []
                    do {
                        for box in boxes[index] {
                            opened.append(OpenedBox(try AES.GCM.open(AES.GCM.SealedBox(combined: box), using: key)))
                        }
                    } catch {
                        throw SourceError("the staged extract cannot be decrypted (damaged, or its key was destroyed)")
                    }
                    let laneNumber = staged[start + index].lane
                    let texts = Array(opened.dropFirst())
                    let lengths = try OpenedBox.withMutableBytes(texts) { buffers in
                        try opened[0].data.withUnsafeBytes { meta in
                            try laneStates[laneNumber].finish(meta: meta, texts: buffers,
                                                              sizes: classes?.sizes[laneNumber] ?? [])
                        }
                    }
                    return Array(zip(texts, lengths))
                }
            }
            // The writer thread writes the chunks in order and checksums them on the way, while the lanes open the
            // next window. One thread, not the lanes at their own offsets: ext4 takes the file's lock for every
            // `write(2)`, so a second writer spun on it (`perf`: 4 % of a run) instead of decrypting.
            let kept = try results.map { try $0.get() }
            try writing.submit {
                for chunk in kept {
                    for (writer, (text, length)) in zip(writers, chunk) {
                        try text.data.withUnsafeBytes { try writer.writeFormatted(raw: UnsafeRawBufferPointer(rebasing: $0[..<length])) }
                    }
                }
            }
            chunkIndex += boxes.count
            progress(.writing, laneStates.reduce(0) { $0 + $1.rowsOut })
        }
        try writing.finish()
    }

    /// Runs `body` for `0 ..< count` on the lanes' threads, each index on the thread of its `lane`; results in
    /// index order.
    private func parallel<T>(_ count: Int, lane: (Int) -> Int, _ body: (Int) -> T) -> [T] {
        guard count > 1 else { return (0 ..< count).map(body) }
        let results = UnsafeMutableBufferPointer<T?>.allocate(capacity: count)
        results.initialize(repeating: nil)
        defer {
            _ = results.deinitialize()
            results.deallocate()
        }
        let lanes = self.lanes
        // Lane l takes the chunks it governed in pass 1: each lane's state is used by one thread at a time.
        let owners = (0 ..< count).map(lane)
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body
            nonisolated(unsafe) let results = results
            DispatchQueue.concurrentPerform(iterations: lanes) { lane in
                for index in 0 ..< count where owners[index] == lane {
                    results[index] = body(index)
                }
            }
        }
        return results.map { $0! }
    }
}

/// A decrypted box of the governed file, which pass 2 compacts in place and the writer thread then writes.
final class OpenedBox: @unchecked Sendable {
    var data: Data

    init(_ data: Data) { self.data = data }

    /// Runs `body` with the bytes of every box in `boxes`, mutable, at once.
    static func withMutableBytes<R>(_ boxes: [OpenedBox], from index: Int = 0,
                                    _ collected: [UnsafeMutableRawBufferPointer] = [],
                                    _ body: ([UnsafeMutableRawBufferPointer]) throws -> R) rethrows -> R {
        guard index < boxes.count else { return try body(collected) }
        return try boxes[index].data.withUnsafeMutableBytes { bytes in
            try withMutableBytes(boxes, from: index + 1, collected + [bytes], body)
        }
    }
}

/// Writes in submission order on a thread of its own, so that the workers govern the next window meanwhile; at most
/// two windows wait (memory stays bounded). After a failure later writes are skipped and ``finish()`` reports it.
final class BackgroundWriter: @unchecked Sendable {
    private let queue = DispatchQueue(label: "sdata.columnar.writer")
    private let slots = DispatchSemaphore(value: 2)
    private let lock = NSLock()
    private var failure: (any Error)?

    func submit(_ body: @escaping () throws -> Void) throws {
        if let failure = lock.withLock({ failure }) { throw failure }
        slots.wait()
        nonisolated(unsafe) let body = body
        queue.async {
            defer { self.slots.signal() }
            guard self.lock.withLock({ self.failure == nil }) else { return }
            do { try body() } catch { self.lock.withLock { self.failure = error } }
        }
    }

    /// Waits for every submitted write; throws the first failure.
    func finish() throws {
        queue.sync {}
        if let failure = lock.withLock({ failure }) { throw failure }
    }

    /// Waits without reporting (a run that already failed).
    func drain() { queue.sync {} }
}

/// A parse problem of one chunk, turned into the row reader's message once the chunk's first line is known.
struct ChunkProblem: Error {
    let outcome: DelimitedChunk.Outcome

    func error(path: String, width: Int, line: Int) -> any Error {
        switch outcome {
        case .wrongWidth(let offset, let fields):
            return SourceError("\(path):\(line + offset): record has \(fields) fields but the header has \(width) "
                               + "(truncated or malformed file?)")
        case .unterminatedQuote(let offset):
            return SourceError("\(path):\(line + offset): the file ends inside a quoted field (truncated?)")
        case .irregular, .parsed:
            return ColumnarEngine.Unsupported(reason: "quotes appear inside unquoted fields")
        }
    }
}

/// Pass 1's chunks waiting for a lane, first in first out: each lane's thread takes the next one when it is free and
/// runs it with its lane's number; ``close(workers:)`` ends the lanes' loops once the chunks before it are taken.
final class ChunkQueue: @unchecked Sendable {
    typealias Job = (Int) -> Void
    private var jobs: [Job?] = []
    private var head = 0
    private let lock = NSLock()
    private let ready = DispatchSemaphore(value: 0)

    func push(_ job: @escaping Job) { enqueue(job) }

    /// Ends `workers` lanes' loops (each takes one end).
    func close(workers: Int) {
        for _ in 0 ..< workers { enqueue(nil) }
    }

    /// The next chunk's job, waiting for one; nil when the queue is closed.
    func next() -> Job? {
        ready.wait()
        return lock.withLock {
            let job = jobs[head]
            jobs[head] = nil
            head += 1
            if head == jobs.count {
                jobs.removeAll(keepingCapacity: true)
                head = 0
            }
            return job
        }
    }

    private func enqueue(_ job: Job?) {
        lock.withLock { jobs.append(job) }
        ready.signal()
    }
}

/// One chunk's outcome in pass 1, handed from its lane's queue to the thread that takes results in order.
final class ChunkResult: @unchecked Sendable {
    var value: Result<(raw: Data?, boxes: [Data], chunk: ColumnarEngine.StagedChunk), any Error>?
    let done = DispatchSemaphore(value: 0)

    /// Waits until the lane has set ``value`` (once; a second wait returns at once).
    func wait() {
        guard !waited else { return }
        done.wait()
        waited = true
    }

    private var waited = false
}

/// A file the lanes read in order — pass 1's input, pass 2's governed file — memory-mapped whole (`mmap(2)`,
/// read-only): the lanes parse and decrypt the page cache's pages where they are, instead of a copy made by
/// `read(2)` on the thread that cuts the chunks. The pages of chunks already done are dropped from the process in
/// steps of ``releaseStep`` (`madvise(MADV_DONTNEED)`; they stay in the page cache), so the process's memory holds
/// the chunks in flight, not the file. A file that shrinks while mapped raises `SIGBUS` (``MappedInputFault``).
final class MappedInput {
    private let base: UnsafeMutableRawPointer?
    private let length: Int
    private var released = 0
    private var populated = 0
    private var populating = true
    private let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    /// Measured at 1M rows (`/proc/interrupts`, TLB shootdowns a run): page by chunk (~512 KB), 322; 4 MiB, 93;
    /// 8 MiB, 67 (of which ~55 are other unmaps). Peak RSS grew 3–8 MB with 4 MiB; wall time did not change on a
    /// quiet host. On a busy one, a shootdown to a core whose virtual CPU the host has descheduled spins until it runs
    /// again: the runs where pass 2's system time had quadrupled (docs/performance.md).
    static let releaseStep = 4 << 20

    init(path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw SourceError("cannot open '\(path)': \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        let end = lseek(descriptor, 0, SEEK_END)
        guard end >= 0 else { throw SourceError("cannot read '\(path)': \(String(cString: strerror(errno)))") }
        length = Int(end)
        guard length > 0 else {
            base = nil
            return
        }
        MappedInputFault.install()
        let mapped = mmap(nil, length, PROT_READ, MAP_PRIVATE, descriptor, 0)
        guard let mapped, mapped != MAP_FAILED else {
            throw SourceError("cannot read '\(path)': \(String(cString: strerror(errno)))")
        }
        _ = madvise(mapped, length, Int32(MADV_SEQUENTIAL))
        base = mapped
    }

    deinit {
        if let base { munmap(base, length) }
    }

    var bytes: UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: base?.assumingMemoryBound(to: UInt8.self), count: length)
    }

    /// Maps the pages up to `offset` into the process in one call (`MADV_POPULATE_READ`, Linux 5.14), ahead of their
    /// first touch: the kernel populates a range at about three times the rate the first touch faults it in (fault-around
    /// maps 16 pages per fault). Only the next chunk is populated, so the process's memory still holds the chunks in
    /// flight, not the file. A kernel without it says `EINVAL` once, and the pages fault in as before.
    func populate(upTo offset: Int) {
        guard let base, populating else { return }
        let end = min((offset + page - 1) / page * page, length)
        let from = max(populated, released)
        guard end > from else { return }
        if madvise(base + from, end - from, MADV_POPULATE_READ) != 0, errno == EINVAL { populating = false }
        populated = end
    }

    /// Drops the whole pages before `offset` from the process's memory, once at least ``releaseStep`` bytes are
    /// done (or the file is): each `madvise(MADV_DONTNEED)` interrupts the other cores to flush their TLBs and waits
    /// for them.
    func release(upTo offset: Int) {
        guard let base else { return }
        let end = min(offset, length) / page * page
        guard end > released, end - released >= MappedInput.releaseStep || offset >= length else { return }
        _ = madvise(base + released, end - released, Int32(MADV_DONTNEED))
        released = end
    }
}

/// A mapped file that shrinks while it is read makes the next access to its lost pages raise `SIGBUS`: the process
/// then says so on standard error and exits with status 74 (`EX_IOERR`), instead of dying of a bare "Bus error". It
/// publishes nothing (versions appear only when complete); the next run's recovery marks the run as failed.
enum MappedInputFault {
    nonisolated(unsafe) private static let message: UnsafeMutableBufferPointer<UInt8> = {
        let text = Array("sdata: error: the input file changed size while it was being read (SIGBUS); nothing was published\n".utf8)
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: text.count)
        _ = buffer.initialize(from: text)
        return buffer
    }()

    private static let installed: Bool = {
        _ = message
        signal(SIGBUS) { _ in
            _ = write(2, MappedInputFault.message.baseAddress, MappedInputFault.message.count)
            _exit(74)
        }
        return true
    }()

    static func install() { _ = installed }
}

/// The stage being written: length-prefixed sealed boxes written as they are, without another buffer.
final class StageFile {
    private let sink: FileSink

    /// A `scratch` file is deleted without being synced: it is not pushed to disk as it is written.
    init(path: String, scratch: Bool = false) throws {
        do {
            sink = try FileSink(path: path, exclusive: false, mode: 0o600, capacity: 1 << 12, writeback: !scratch)
        } catch {
            throw SourceError("cannot stage the extract: \(error.description)")
        }
    }

    func append(box: Data) throws {
        var length: [UInt8] = []
        appendUInt32(UInt32(box.count), to: &length)
        do {
            try sink.write(length)
            try box.withUnsafeBytes { raw in try sink.writeDirect(raw) }
        } catch {
            throw SourceError("cannot stage the extract: \(error)")
        }
    }

    func sync() throws {
        do { try sink.sync() } catch { throw SourceError("cannot stage the extract: \(error.description)") }
    }
}

@inline(__always)
private func appendUInt32(_ value: UInt32, to bytes: inout [UInt8]) {
    bytes += [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24)]
}
