import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The few file-system operations atomic publication needs, with errors that name the path.
enum FileSystem {
    static func makeDirectories(_ path: String) throws(CatalogError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw CatalogError("cannot create folder '\(path)'")
        }
    }

    static func removeTree(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    static func exists(_ path: String) -> Bool {
        withUnsafeTemporaryAllocation(of: stat.self, capacity: 1) { info in lstat(path, info.baseAddress!) == 0 }
    }

    /// Writes a file that must not exist yet, and syncs it.
    static func writeNew(_ path: String, _ data: Data) throws(CatalogError) {
        let output = try FileOutput(path: path)
        try output.write(bytes: [UInt8](data))
        _ = try output.finish()
    }

    /// Replaces `path` with `data` atomically (write aside, sync, rename).
    static func replace(_ path: String, with data: Data) throws(CatalogError) {
        // Unique per call: two tasks of one process may replace the same file at once.
        let temporary = path + ".tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        removeTree(temporary)
        try writeNew(temporary, data)
        try rename(temporary, to: path)
    }

    static func rename(_ source: String, to target: String) throws(CatalogError) {
        guard Glibc.rename(source, target) == 0 else { throw CatalogError.io("cannot move into place", path: target) }
    }

    static func sync(directory: String) throws(CatalogError) {
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY)
        guard descriptor >= 0 else { throw CatalogError.io("cannot open folder", path: directory) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw CatalogError.io("cannot sync folder", path: directory) }
    }

    /// Makes `link` a symbolic link to `target` in one atomic step.
    static func pointSymlink(_ link: String, to target: String) throws(CatalogError) {
        let temporary = link + ".tmp-\(getpid())"
        removeTree(temporary)
        guard symlink(target, temporary) == 0 else { throw CatalogError.io("cannot create link", path: temporary) }
        try rename(temporary, to: link)
    }

    static func readLink(_ link: String) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: link)
    }

    /// Takes an exclusive advisory lock, waiting for other holders; release with ``unlock(_:)``.
    ///
    /// Waits by polling with a non-blocking `flock` and `Task.sleep`, never by blocking the thread: a blocking
    /// `flock` would hold one of Swift's few cooperative threads, and with two or three waiters (a 2-core machine)
    /// the holder could no longer resume to release the lock — a deadlock found by the three-worker test.
    static func lock(_ path: String) async throws -> Int32 {
        try makeDirectories((path as NSString).deletingLastPathComponent)
        var pause: UInt64 = 2
        while true {
            if let descriptor = try tryLock(path) { return descriptor }
            try await Task.sleep(for: .milliseconds(pause))
            pause = min(pause * 2, 100)
        }
    }

    /// Takes an exclusive lock if it is free; `nil` when another process holds it.
    static func tryLock(_ path: String, shared: Bool = false) throws(CatalogError) -> Int32? {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw CatalogError.io("cannot open lock", path: path) }
        if flock(descriptor, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0 { return descriptor }
        let code = errno
        close(descriptor)
        if code == EWOULDBLOCK { return nil }
        throw CatalogError("cannot lock '\(path)': \(String(cString: strerror(code)))")
    }

    static func unlock(_ descriptor: Int32) {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    /// When the file was last written; `nil` when it does not exist.
    static func modificationDate(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }

    static func contents(ofDirectory path: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
    }
}
