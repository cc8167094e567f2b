#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file written through a large buffer with plain `write(2)`, synced with `fsync` before it counts as written.
///
/// Errors name the path and say when the disk is full; they never include the bytes being written.
public final class FileSink {
    public let path: String
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private let capacity: Int
    /// Called with each buffer just before it is written (checksums).
    private let observer: ((UnsafeRawBufferPointer) -> Void)?
    public private(set) var bytesWritten = 0

    /// Whether every 16 MiB written start going to disk at once (``startWriteback()``): for files that will be
    /// synced. A scratch file deleted unsynced leaves its pages to the kernel, so that it takes no disk bandwidth
    /// from the files that must reach the disk.
    private let writesBack: Bool

    /// Creates `path`. With `exclusive`, the file must not exist yet; otherwise an existing file is truncated.
    /// `writeback: false` for a scratch file that is never synced.
    public init(path: String, exclusive: Bool = true, mode: Int32 = 0o644, capacity: Int = 1 << 20,
                writeback: Bool = true, observer: ((UnsafeRawBufferPointer) -> Void)? = nil) throws(FileSinkError) {
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC)
        descriptor = open(path, flags, mode_t(mode))
        guard descriptor >= 0 else { throw FileSinkError("cannot create", path: path) }
        self.path = path
        self.capacity = capacity
        self.observer = observer
        writesBack = writeback
        buffer.reserveCapacity(capacity)
    }

    deinit { close(descriptor) }

    @inline(__always)
    public func write(_ bytes: some Collection<UInt8>) throws(FileSinkError) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= capacity { try flush() }
    }

    /// Large arrays skip the buffer: whatever it holds is written first, then the array itself.
    public func write(_ bytes: [UInt8]) throws(FileSinkError) {
        guard bytes.count >= capacity / 2 else {
            buffer.append(contentsOf: bytes)
            if buffer.count >= capacity { try flush() }
            return
        }
        try flush()
        let written = bytes.withUnsafeBytes { raw in
            observer?(raw)
            return writeAll(raw)
        }
        guard written else { throw FileSinkError("cannot write", path: path) }
        bytesWritten += bytes.count
    }

    /// Writes `raw` straight to the file after whatever the buffer holds (large sealed blocks: no copy into it).
    public func writeDirect(_ raw: UnsafeRawBufferPointer) throws(FileSinkError) {
        try flush()
        observer?(raw)
        guard writeAll(raw) else { throw FileSinkError("cannot write", path: path) }
        bytesWritten += raw.count
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

    /// Writes all of `raw`; false on an error (in `errno`).
    private func writeAll(_ raw: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < raw.count {
            #if canImport(Glibc)
            let written = Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
            #else
            let written = Darwin.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
            #endif
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += written
        }
        // A large file goes to disk while it is written, not all at once in the final `fsync`.
        sinceWriteback += raw.count
        if writesBack && sinceWriteback >= 16 << 20 {
            startWriteback()
            sinceWriteback = 0
        }
        return true
    }

    private var sinceWriteback = 0

    public func write(_ text: String) throws(FileSinkError) {
        var text = text
        text.withUTF8 { buffer.append(contentsOf: $0) }
        if buffer.count >= capacity { try flush() }
    }

    /// Hands the buffer to the kernel.
    public func flush() throws(FileSinkError) {
        guard !buffer.isEmpty else { return }
        guard buffer.withUnsafeBytes({ raw in
            observer?(raw)
            return writeAll(raw)
        }) else { throw FileSinkError("cannot write", path: path) }
        bytesWritten += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes and syncs the file to disk.
    public func sync() throws(FileSinkError) {
        try flush()
        guard fsync(descriptor) == 0 else { throw FileSinkError("cannot sync", path: path) }
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
