#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Crypto
import SDataCore

/// A new file written through a large buffer while its SHA-256 and size are computed, flushed to disk with `fsync`
/// before it counts as written.
final class FileOutput {
    let path: String
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var hasher = SHA256()
    private(set) var bytes = 0
    private let capacity = 1 << 20

    /// Creates `path`, which must not exist yet.
    init(path: String) throws(CatalogError) {
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw CatalogError.io("cannot create", path: path) }
        self.path = path
        buffer.reserveCapacity(capacity)
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    @inline(__always)
    func write(_ text: String) throws(CatalogError) {
        var text = text
        text.withUTF8 { buffer.append(contentsOf: $0) }
        if buffer.count >= capacity { try flush() }
    }

    func write(bytes: [UInt8]) throws(CatalogError) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= capacity { try flush() }
    }

    private func flush() throws(CatalogError) {
        guard !buffer.isEmpty else { return }
        hasher.update(data: buffer)
        var offset = 0
        while offset < buffer.count {
            let written = buffer.withUnsafeBytes { pointer in
                Glibc.write(descriptor, pointer.baseAddress! + offset, pointer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw CatalogError.io("cannot write", path: path)
            }
            offset += written
        }
        bytes += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, syncs and closes; returns the size and SHA-256 of everything written.
    func finish() throws(CatalogError) -> (bytes: Int, sha256: String) {
        try flush()
        guard fsync(descriptor) == 0 else { throw CatalogError.io("cannot sync", path: path) }
        return (bytes, Hex.string(hasher.finalize()))
    }
}

/// A failure of the catalog: I/O, a full disk, an inconsistent store. Messages name paths, never record values.
public struct CatalogError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }

    static func io(_ action: String, path: String) -> CatalogError {
        let code = errno
        let reason = code == ENOSPC ? "the disk is full" : String(cString: strerror(code))
        return CatalogError("\(action) '\(path)': \(reason)")
    }
}
