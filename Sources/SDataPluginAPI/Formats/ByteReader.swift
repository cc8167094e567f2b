#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a file in large chunks with plain `read(2)`: the building block of the streaming parsers.
public final class ByteReader {
    private let descriptor: Int32
    public let path: String
    private(set) var buffer: [UInt8]
    private(set) var start = 0
    private(set) var end = 0
    private var exhausted = false

    public init(path: String, chunkSize: Int = 1 << 18) throws(SourceError) {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw SourceError("cannot open '\(path)': \(String(cString: strerror(errno)))")
        }
        self.descriptor = descriptor
        self.path = path
        buffer = [UInt8](repeating: 0, count: chunkSize)
    }

    /// A reader over bytes already in memory; `label` names them in errors.
    public init(bytes: [UInt8], label: String) {
        descriptor = -1
        path = label
        buffer = bytes
        end = bytes.count
        exhausted = true
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    /// Refills the buffer, keeping unread bytes; returns false at end of file.
    @discardableResult
    func fill() throws(SourceError) -> Bool {
        if exhausted { return false }
        if start > 0 {
            let remaining = end - start
            if remaining > 0 {
                buffer.withUnsafeMutableBufferPointer { pointer in
                    let base = pointer.baseAddress!
                    memmove(base, base + start, remaining)
                }
            }
            start = 0
            end = remaining
        }
        if end == buffer.count { buffer += [UInt8](repeating: 0, count: buffer.count) }
        let count = buffer.withUnsafeMutableBufferPointer { pointer in
            read(descriptor, pointer.baseAddress! + end, pointer.count - end)
        }
        if count < 0 { throw SourceError("cannot read '\(path)': \(String(cString: strerror(errno)))") }
        if count == 0 { exhausted = true; return false }
        end += count
        return true
    }

    /// The next byte without consuming it, or `nil` at end of file.
    @inline(__always)
    public func peek() throws(SourceError) -> UInt8? {
        if start == end, try !fill() { return nil }
        return buffer[start]
    }

    @inline(__always)
    public func next() throws(SourceError) -> UInt8? {
        if start == end, try !fill() { return nil }
        defer { start += 1 }
        return buffer[start]
    }

    /// Skips a UTF-8 byte-order mark at the current position.
    public func skipBOM() throws(SourceError) {
        while end - start < 3, try fill() {}
        if end - start >= 3, buffer[start] == 0xEF, buffer[start + 1] == 0xBB, buffer[start + 2] == 0xBF { start += 3 }
    }
}
