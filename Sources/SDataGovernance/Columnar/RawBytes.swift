import Foundation
import SDataCore

/// A growable byte buffer that the columnar lanes' per-field loops write through a pointer: appending checks the
/// capacity once and copies, without the uniqueness check and reference counting an `Array` append costs per call.
///
/// Not a value type: copies share one allocation (the last owner frees it), so a buffer is kept by one lane at a time
/// and handed over, never mutated through two copies.
public struct RawBytes: @unchecked Sendable {
    private final class Storage {
        let pointer: UnsafeMutablePointer<UInt8>
        init(capacity: Int) { pointer = .allocate(capacity: capacity) }
        deinit { pointer.deallocate() }
    }

    private var storage: Storage
    private(set) var base: UnsafeMutablePointer<UInt8>
    public private(set) var count = 0
    private(set) var capacity: Int

    public init(capacity: Int = 1 << 12) {
        self.capacity = max(capacity, 64)
        storage = Storage(capacity: self.capacity)
        base = storage.pointer
    }

    /// The bytes written; valid while this buffer lives and is not appended to.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    public mutating func removeAll() { count = 0 }

    /// Room for `extra` more bytes at ``end``.
    @inline(__always)
    mutating func reserve(_ extra: Int) {
        if _slowPath(count &+ extra > capacity) { grow(count + extra) }
    }

    /// Where the next byte goes (after ``reserve(_:)``).
    @inline(__always)
    var end: UnsafeMutablePointer<UInt8> { base + count }

    /// Counts `written` bytes put at ``end``.
    @inline(__always)
    mutating func advance(_ written: Int) { count &+= written }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count &+= 1
    }

    /// Appends the first `count` (at most eight) bytes of `word`, the first in its low byte.
    @inline(__always)
    mutating func append(word: UInt64, count length: Int) {
        reserve(8)
        UnsafeMutableRawPointer(base + count).storeBytes(of: word.littleEndian, as: UInt64.self)
        count &+= length
    }

    @inline(__always)
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        let length = bytes.count
        guard length > 0 else { return }
        reserve(length)
        ByteScan.copy(from: bytes.baseAddress!, to: base + count, count: length)
        count &+= length
    }

    @inline(__always)
    mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Runs a pointer kernel on `bound` bytes of room; keeps what it wrote. False when it declined (-1).
    @inline(__always)
    mutating func write(bound: Int, _ kernel: (UnsafeMutablePointer<UInt8>) -> Int) -> Bool {
        reserve(bound)
        let written = kernel(base + count)
        guard written >= 0 else { return false }
        count &+= written
        return true
    }

    /// Bytes `from ..< count` equal `other`.
    @inline(__always)
    func suffix(from start: Int, equals other: UnsafeRawBufferPointer) -> Bool {
        count - start == other.count && (other.count == 0 || memcmp(base + start, other.baseAddress!, other.count) == 0)
    }

    @inline(never)
    private mutating func grow(_ needed: Int) {
        var size = capacity * 2
        while size < needed { size *= 2 }
        let larger = Storage(capacity: size)
        larger.pointer.update(from: base, count: count)
        storage = larger
        base = larger.pointer
        capacity = size
    }
}

/// Appends `bytes` as one CSV field: RFC 4180 minimal quoting (quoted only when it holds the delimiter, a quote, CR
/// or LF; quotes doubled), as ``SDataCore/CSVQuoting`` writes it.
@inline(__always)
func appendCSVField(_ bytes: UnsafeRawBufferPointer, delimiter: UInt8, to output: inout RawBytes) {
    let count = bytes.count
    guard count > 0 else { return }
    output.reserve(count * 2 + 2)
    // Copied and checked in one pass, eight bytes at a time; rewritten quoted in the rare case it must be.
    let source = bytes.baseAddress!
    let target = UnsafeMutableRawPointer(output.end)
    var special = false
    var position = 0
    let marks = (ByteScan.splat(delimiter), ByteScan.splat(0x22), ByteScan.splat(0x0A), ByteScan.splat(0x0D))
    while position + 8 <= count {
        let word = source.loadUnaligned(fromByteOffset: position, as: UInt64.self)
        target.storeBytes(of: word, toByteOffset: position, as: UInt64.self)
        if ByteScan.zeroMarks(word ^ marks.0) | ByteScan.zeroMarks(word ^ marks.1) | ByteScan.zeroMarks(word ^ marks.2)
            | ByteScan.zeroMarks(word ^ marks.3) != 0 { special = true }
        position += 8
    }
    while position < count {
        let byte = source.load(fromByteOffset: position, as: UInt8.self)
        target.storeBytes(of: byte, toByteOffset: position, as: UInt8.self)
        if byte == delimiter || byte == 0x22 || byte == 0x0A || byte == 0x0D { special = true }
        position += 1
    }
    guard special else {
        output.advance(count)
        return
    }
    var quoted = output.end
    quoted[0] = 0x22
    quoted += 1
    for byte in bytes {
        if byte == 0x22 {
            quoted[0] = 0x22
            quoted += 1
        }
        quoted[0] = byte
        quoted += 1
    }
    quoted[0] = 0x22
    output.advance(quoted - output.end + 1)
}

