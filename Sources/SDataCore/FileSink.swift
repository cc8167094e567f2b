#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSDataIntrinsics
import Dispatch

/// A file written through a large buffer with plain `write(2)`, synced with `fsync` before it counts as written.
///
/// A `direct` sink writes its whole blocks with `O_DIRECT`: from the buffer straight to the device, past the page
/// cache. A large output then costs no copy into fresh page-cache pages (the kernel's `copy_folio_from_iter`, whose
/// speed on a virtual machine depends on whether the host has backed those pages yet: 0.2–1.7 s for 1 GB here) and
/// leaves nothing for the final `fsync` to wait for. The last partial block, and everything on a file system that
/// refuses `O_DIRECT`, is written through the page cache as before; the bytes on disk are the same either way.
/// A direct write waits for the device, so it runs on a queue of its own (``DirectWrites``) from a second buffer
/// while the caller fills the first and its observer hashes the next block; an error it meets is thrown by the
/// sink's next flush or ``sync()``.
///
/// Errors name the path and say when the disk is full; they never include the bytes being written.
public final class FileSink {
    public let path: String
    private let descriptor: Int32
    /// The buffer: `capacity` bytes, aligned for `O_DIRECT`.
    private var buffer: UnsafeMutableRawPointer
    /// Once direct, the writes in flight (and the second buffer they write from).
    private var inFlight: DirectWrites?
    private var filled = 0
    private let capacity: Int
    /// Called with each buffer just before it is written (checksums).
    private let observer: ((UnsafeRawBufferPointer) -> Void)?
    public private(set) var bytesWritten = 0

    /// Whether every 16 MiB written start going to disk at once (``startWriteback()``): for files that will be
    /// synced. A scratch file deleted unsynced leaves its pages to the kernel, so that it takes no disk bandwidth
    /// from the files that must reach the disk.
    private let writesBack: Bool

    /// Whether the descriptor has `O_DIRECT` set: whole blocks then go to the device from ``buffer``.
    public private(set) var isDirect = false

    /// Where a `direct` sink turns `O_DIRECT` on (nil: never, or already on): the first ``directThreshold`` bytes
    /// go through the page cache, where the copy is cheap and overlaps the next block's checksum; only a larger
    /// file's rest goes to the device directly.
    private var directFrom: Int?

    /// 4 MiB: a small file (metadata, pages) is written as before, with no second buffer and no queue; a larger one
    /// goes past the page cache from there on. It was 128 MiB while direct writes ran on the writer's thread (a
    /// 90 MB output was then 25–35 ms slower written directly, each write waiting for the device). With the writes
    /// on their queue a 90 MB output costs the same either way on a quiet host, while on a busy one `perf` caught
    /// the page-cache copy of that output taking four times as long as its SHA-256 (see docs/performance.md).
    public static let directThreshold = 4 << 20

    /// `O_DIRECT` needs the buffer's address, the file offset and the length aligned to the device's logical block
    /// size; 4 KiB covers the devices in use (512-byte and 4 KiB sectors).
    private static let alignment = 4096

    /// Creates `path`. With `exclusive`, the file must not exist yet; otherwise an existing file is truncated.
    /// `writeback: false` for a scratch file that is never synced. `direct` asks for `O_DIRECT` (see the type's
    /// documentation) from `directThreshold` bytes on; the buffer is then at least 1 MiB.
    public init(path: String, exclusive: Bool = true, mode: Int32 = 0o644, capacity: Int = 1 << 20,
                writeback: Bool = true, direct: Bool = false, directThreshold: Int = FileSink.directThreshold,
                observer: ((UnsafeRawBufferPointer) -> Void)? = nil) throws(FileSinkError) {
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC)
        descriptor = open(path, flags, mode_t(mode))
        guard descriptor >= 0 else { throw FileSinkError("cannot create", path: path) }
        self.path = path
        self.observer = observer
        writesBack = writeback
        // Set after `open`, not in its flags: a file system without direct I/O refuses the `fcntl` and the file is
        // written through the page cache, instead of `open` failing (or creating the file and then failing).
        if direct, sdata_open_direct() != 0 { directFrom = max(directThreshold, 0) }
        let size = direct ? max(capacity, 1 << 20) / FileSink.alignment * FileSink.alignment : max(capacity, 1)
        self.capacity = size
        buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: FileSink.alignment)
    }

    deinit {
        inFlight?.finish()
        close(descriptor)
        buffer.deallocate()
    }

    @inline(__always)
    public func write(_ bytes: some Collection<UInt8>) throws(FileSinkError) {
        let outcome = bytes.withContiguousStorageIfAvailable { stored in
            Result { () throws(FileSinkError) in try append(UnsafeRawBufferPointer(stored)) }
        }
        if let outcome { return try outcome.get() }
        try write(Array(bytes))
    }

    /// Large arrays skip the buffer (when the sink is not direct): whatever it holds is written first, then the
    /// array itself.
    public func write(_ bytes: [UInt8]) throws(FileSinkError) {
        try bytes.withUnsafeBytes { raw in
            Result { () throws(FileSinkError) in
                if raw.count >= capacity / 2 { try writeDirect(raw) } else { try append(raw) }
            }
        }.get()
    }

    /// Writes `raw` straight to the file after whatever the buffer holds (large sealed blocks: no copy into it). A
    /// direct sink copies it into its buffer instead: `O_DIRECT` needs aligned blocks.
    public func writeDirect(_ raw: UnsafeRawBufferPointer) throws(FileSinkError) {
        guard !isDirect && bytesWritten + filled + raw.count < directFrom ?? Int.max else { return try append(raw) }
        try flush()
        observer?(raw)
        guard writeAll(raw) else { throw FileSinkError("cannot write", path: path) }
        bytesWritten += raw.count
    }

    public func write(_ text: String) throws(FileSinkError) {
        var text = text
        try text.withUTF8 { utf8 in
            Result { () throws(FileSinkError) in try append(UnsafeRawBufferPointer(utf8)) }
        }.get()
    }

    /// Copies `raw` into the buffer, writing each block that fills.
    @inline(__always)
    private func append(_ raw: UnsafeRawBufferPointer) throws(FileSinkError) {
        guard let source = raw.baseAddress else { return }
        if raw.count <= capacity - filled {
            (buffer + filled).copyMemory(from: source, byteCount: raw.count)
            filled += raw.count
            if filled == capacity { try flush() }
            return
        }
        var offset = 0
        while offset < raw.count {
            let count = min(raw.count - offset, capacity - filled)
            (buffer + filled).copyMemory(from: source + offset, byteCount: count)
            filled += count
            offset += count
            if filled == capacity { try flush() }
        }
    }

    /// Starts writing the file's dirty pages to disk without waiting for them (`sync_file_range(2)` with
    /// `SYNC_FILE_RANGE_WRITE`, where the C library has it), so that the final ``sync()`` has less left to wait for.
    /// Durability still comes from ``sync()`` alone.
    public func startWriteback() {
        _ = FileSink.syncFileRange?(descriptor, 0, 0, 2)
    }

    /// glibc's `sync_file_range`, looked up at run time: Swift's Glibc module does not declare it (it is a GNU
    /// extension of `fcntl.h`).
    private static let syncFileRange: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32)? = {
        #if os(Linux)
        guard let symbol = dlsym(nil, "sync_file_range") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32).self)
        #else
        return nil
        #endif
    }()

    /// Writes all of `raw`; false on an error (in `errno`). A direct write the kernel refuses (`EINVAL`: a device
    /// with larger sectors, or an offset left unaligned by a short write) turns direct I/O off and is retried
    /// through the page cache.
    private func writeAll(_ raw: UnsafeRawBufferPointer) -> Bool {
        let error = FileSink.write(raw, to: descriptor) { [self] in isDirect && leaveDirect() }
        guard error == 0 else {
            errno = error
            return false
        }
        // A large file goes to disk while it is written, not all at once in the final `fsync`.
        sinceWriteback += raw.count
        if writesBack && !isDirect && sinceWriteback >= 16 << 20 {
            startWriteback()
            sinceWriteback = 0
        }
        return true
    }

    private var sinceWriteback = 0

    /// Writes all of `raw` to `descriptor`, retrying after `EINTR` and after `EINVAL` when `leaveDirect` turned
    /// direct I/O off; returns 0 or the `errno` of the failure.
    static func write(_ raw: UnsafeRawBufferPointer, to descriptor: Int32, leaveDirect: () -> Bool) -> Int32 {
        var offset = 0
        while offset < raw.count {
            #if canImport(Glibc)
            let written = Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
            #else
            let written = Darwin.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
            #endif
            if written < 0 {
                let error = errno
                if error == EINTR { continue }
                if error == EINVAL && leaveDirect() { continue }
                return error
            }
            offset += written
        }
        return 0
    }

    /// Sets or clears `O_DIRECT` on `descriptor`; false if its flags cannot be changed.
    static func setDirect(_ descriptor: Int32, _ on: Bool) -> Bool {
        let current = fcntl(descriptor, F_GETFL)
        guard current >= 0 else { return false }
        let flags = on ? current | sdata_open_direct() : current & ~sdata_open_direct()
        return fcntl(descriptor, F_SETFL, flags) == 0
    }

    /// Clears `O_DIRECT`: what follows goes through the page cache. False if the flags cannot be changed.
    private func leaveDirect() -> Bool {
        guard FileSink.setDirect(descriptor, false) else { return false }
        isDirect = false
        return true
    }

    /// Hands the buffer to the kernel. A direct sink hands over only whole blocks and keeps the rest (less than a
    /// block) for the next flush or ``sync()``.
    public func flush() throws(FileSinkError) {
        if let start = directFrom, bytesWritten + filled >= start {
            // O_DIRECT from an aligned offset: the bytes up to it go through the page cache first.
            let pad = (FileSink.alignment - bytesWritten % FileSink.alignment) % FileSink.alignment
            if pad <= filled {
                try flush(count: pad)
                directFrom = nil
                isDirect = FileSink.setDirect(descriptor, true)
                if isDirect { inFlight = DirectWrites(descriptor: descriptor, capacity: capacity) }
            }
        }
        if isDirect, let inFlight {
            try handOver(to: inFlight)
        } else {
            try flush(count: filled)
        }
    }

    /// Hands the buffer's whole blocks to the direct writes once the previous write is done, swapping buffers;
    /// the rest (less than a block) moves to the front of the next buffer.
    private func handOver(to writes: DirectWrites) throws(FileSinkError) {
        let count = filled / FileSink.alignment * FileSink.alignment
        guard count > 0 else { return }
        observer?(UnsafeRawBufferPointer(start: buffer, count: count))
        try settle(writes)
        guard isDirect else { return try flush(count: count, observed: true) }
        let next = writes.swap(buffer)
        filled -= count
        if filled > 0 { next.copyMemory(from: buffer + count, byteCount: filled) }
        writes.start(UnsafeRawBufferPointer(start: buffer, count: count))
        buffer = next
        bytesWritten += count
    }

    /// Waits for the write in flight; throws its error, and turns direct I/O off here when it did.
    private func settle(_ writes: DirectWrites) throws(FileSinkError) {
        let outcome = writes.wait()
        if outcome.leftDirect { isDirect = false }
        if outcome.error != 0 {
            errno = outcome.error
            throw FileSinkError("cannot write", path: path)
        }
    }

    /// Writes the buffer's first `count` bytes and keeps the rest; `observed`: the observer has seen them.
    private func flush(count: Int, observed: Bool = false) throws(FileSinkError) {
        guard count > 0 else { return }
        let block = UnsafeRawBufferPointer(start: buffer, count: count)
        if !observed { observer?(block) }
        guard writeAll(block) else { throw FileSinkError("cannot write", path: path) }
        bytesWritten += count
        filled -= count
        if filled > 0 { buffer.copyMemory(from: buffer + count, byteCount: filled) }
    }

    /// Flushes and syncs the file to disk. A direct sink writes its last partial block through the page cache.
    public func sync() throws(FileSinkError) {
        try flush()
        if let inFlight { try settle(inFlight) }
        if filled > 0 {
            guard leaveDirect() else { throw FileSinkError("cannot write", path: path) }
            try flush(count: filled)
        }
        guard fsync(descriptor) == 0 else { throw FileSinkError("cannot sync", path: path) }
    }
}

/// A direct sink's writes in flight: one at a time, in order, on a serial queue, from the buffer the sink last
/// handed over; the sink waits for each before handing over the next. An `EINVAL` turns direct I/O off and the
/// write is retried through the page cache (the sink learns it from ``wait()``).
final class DirectWrites: @unchecked Sendable {
    private let descriptor: Int32
    private let queue = DispatchQueue(label: "sdata.filesink.direct")
    /// 1 while no write is in flight.
    private let idle = DispatchSemaphore(value: 1)
    /// The buffer not being filled: written from while a write is in flight.
    private var spare: UnsafeMutableRawPointer
    private var block = UnsafeRawBufferPointer(start: nil, count: 0)
    private var error: Int32 = 0
    private var leftDirect = false

    init(descriptor: Int32, capacity: Int) {
        self.descriptor = descriptor
        spare = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 4096)
    }

    deinit { spare.deallocate() }

    /// Waits until no write is in flight; returns the last write's outcome (and clears its error).
    func wait() -> (error: Int32, leftDirect: Bool) {
        idle.wait()
        defer { idle.signal() }
        let outcome = (error, leftDirect)
        error = 0
        leftDirect = false
        return outcome
    }

    /// Takes `buffer` (about to be written from) and returns the spare one to fill. Only between ``wait()`` and
    /// ``start(_:)``.
    func swap(_ buffer: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
        let free = spare
        spare = buffer
        return free
    }

    /// Writes `block` (in the buffer last passed to ``swap(_:)``) on the queue.
    func start(_ block: UnsafeRawBufferPointer) {
        idle.wait()
        self.block = block
        queue.async { [self] in
            error = FileSink.write(self.block, to: descriptor) { [self] in
                guard FileSink.setDirect(descriptor, false) else { return false }
                leftDirect = true
                return true
            }
            idle.signal()
        }
    }

    /// Waits for the write in flight, if any (before the buffers are freed).
    func finish() {
        idle.wait()
        idle.signal()
    }
}

/// Why a file could not be written: the action, the path and the system's reason.
public struct FileSinkError: Error, Sendable, CustomStringConvertible {
    public let description: String

    init(_ action: String, path: String) {
        let code = errno
        let reason = code == ENOSPC ? "the disk is full" : String(cString: strerror(code))
        description = "\(action) '\(path)': \(reason)"
    }
}
