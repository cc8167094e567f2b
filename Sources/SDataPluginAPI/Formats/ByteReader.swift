#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a file in large chunks with plain `read(2)`: the building block of the streaming parsers.
///
/// The buffer is raw memory rather than an array so that the per-byte hot path carries no exclusivity checks or
/// reference counting.
public final class ByteReader {
    private let descriptor: Int32
    public let path: String
    @exclusivity(unchecked) private var storage: UnsafeMutablePointer<UInt8>
    @exclusivity(unchecked) private var capacity: Int
    @exclusivity(unchecked) private var start = 0
    @exclusivity(unchecked) private var end = 0
    @exclusivity(unchecked) private var exhausted = false

    public init(path: String, chunkSize: Int = 1 << 18) throws(SourceError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw SourceError("cannot open '\(path)': \(String(cString: strerror(errno)))")
        }
        self.descriptor = descriptor
        self.path = path
        capacity = chunkSize
        storage = .allocate(capacity: chunkSize)
    }

    /// A reader over an open descriptor (a pipe from a child process); the reader owns it and closes it.
    public init(descriptor: Int32, label: String, chunkSize: Int = 1 << 16) {
        self.descriptor = descriptor
        path = label
        capacity = chunkSize
        storage = .allocate(capacity: chunkSize)
    }

    /// A reader over bytes already in memory; `label` names them in errors.
    public init(bytes: [UInt8], label: String) {
        descriptor = -1
        path = label
        capacity = max(1, bytes.count)
        storage = .allocate(capacity: capacity)
        bytes.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { storage.initialize(from: base, count: source.count) }
        }
        end = bytes.count
        exhausted = true
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
        storage.deallocate()
    }

    /// Refills the buffer, keeping unread bytes; returns false at end of file.
    @discardableResult
    func fill() throws(SourceError) -> Bool {
        if exhausted { return false }
        if start > 0 {
            let remaining = end - start
            if remaining > 0 { memmove(storage, storage + start, remaining) }
            start = 0
            end = remaining
        }
        if end == capacity {
            let larger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
            larger.initialize(from: storage, count: end)
            storage.deallocate()
            storage = larger
            capacity *= 2
        }
        var count = Glibc.read(descriptor, storage + end, capacity - end)
        while count < 0, errno == EINTR { count = Glibc.read(descriptor, storage + end, capacity - end) }
        if count < 0 { throw SourceError("cannot read '\(path)': \(String(cString: strerror(errno)))") }
        if count == 0 { exhausted = true; return false }
        end += count
        return true
    }

    /// The next byte without consuming it, or `nil` at end of file.
    @inline(__always)
    public func peek() throws(SourceError) -> UInt8? {
        if start == end, try !fill() { return nil }
        return storage[start]
    }

    @inline(__always)
    public func next() throws(SourceError) -> UInt8? {
        if start == end, try !fill() { return nil }
        let byte = storage[start]
        start += 1
        return byte
    }

    /// The next `count` bytes, or `nil` when the input ends first.
    public func read(count: Int) throws(SourceError) -> [UInt8]? {
        while end - start < count {
            if try !fill() { return nil }
        }
        let bytes = [UInt8](UnsafeBufferPointer(start: storage + start, count: count))
        start += count
        return bytes
    }

    /// Moves past the next `count` bytes; false when the input ends first.
    public func skip(count: Int) throws(SourceError) -> Bool {
        while end - start < count {
            if try !fill() { return false }
        }
        start += count
        return true
    }

    /// The next `count` bytes decoded as UTF-8, or `nil` when the input ends first.
    public func readString(count: Int) throws(SourceError) -> String? {
        while end - start < count {
            if try !fill() { return nil }
        }
        let text = String(decoding: UnsafeBufferPointer(start: storage + start, count: count), as: UTF8.self)
        start += count
        return text
    }

    /// Skips a UTF-8 byte-order mark at the current position.
    public func skipBOM() throws(SourceError) {
        while end - start < 3, try fill() {}
        if end - start >= 3, storage[start] == 0xEF, storage[start + 1] == 0xBB, storage[start + 2] == 0xBF { start += 3 }
    }
}
