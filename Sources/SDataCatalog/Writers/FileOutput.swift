#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Crypto
import SDataCore

/// A new file written through a ``FileSink`` while its SHA-256 and size are computed; synced before it counts as
/// written.
final class FileOutput {
    private let sink: FileSink
    private let box: HashBox

    /// Creates `path`, which must not exist yet.
    init(path: String) throws(CatalogError) {
        let box = HashBox()
        do {
            sink = try FileSink(path: path, direct: true) { box.sha.update(data: $0) }
        } catch {
            throw CatalogError(error.description)
        }
        self.box = box
    }

    @inline(__always)
    func write(_ text: String) throws(CatalogError) {
        do { try sink.write(text) } catch { throw CatalogError(error.description) }
    }

    func write(bytes: [UInt8]) throws(CatalogError) {
        do { try sink.write(bytes) } catch { throw CatalogError(error.description) }
    }

    /// A large block straight to the file, hashed on the way.
    func write(raw: UnsafeRawBufferPointer) throws(CatalogError) {
        do { try sink.writeDirect(raw) } catch { throw CatalogError(error.description) }
    }

    /// Flushes and syncs; returns the size and SHA-256 of everything written.
    func finish() throws(CatalogError) -> (bytes: Int, sha256: String) {
        do { try sink.sync() } catch { throw CatalogError(error.description) }
        return (sink.bytesWritten, Hex.string(box.sha.finalize()))
    }
}

/// The running digest the sink's observer updates.
private final class HashBox {
    var sha = SHA256()
}

/// A failure of the catalog: I/O, a full disk, an inconsistent store. Messages name paths, never record values.
public struct CatalogError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }

    static func io(_ action: String, path: String) -> CatalogError {
        // Same wording as FileSinkError, for failures outside a sink (rename, link, lock).
        let code = errno
        let reason = code == ENOSPC ? "the disk is full" : String(cString: strerror(code))
        return CatalogError("\(action) '\(path)': \(reason)")
    }
}
