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

    /// Where the room ends (after ``reserve(_:)``: ``end`` plus at least the bytes reserved).
    @inline(__always)
    var limit: UnsafeMutablePointer<UInt8> { base + capacity }

    /// Counts the bytes written through a pointer from ``end`` up to `position`.
    @inline(__always)
    mutating func advance(to position: UnsafeMutablePointer<UInt8>) { count = position - base }

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

/// Writes `bytes` at `target` as one CSV field, RFC 4180 minimal quoting (quoted only when it holds the delimiter,
/// a quote, CR or LF; quotes doubled), as ``SDataCore/CSVQuoting`` writes it; returns how many bytes it wrote.
/// `target` has room for ``csvFieldRoom(_:)`` bytes: the field is copied in whole words (a value of up to 16 bytes —
/// most of them — with one or two loads and stores and no loop), and checked for the four bytes on the way; it is
/// rewritten quoted in the rare case it must be.
@inline(__always)
func writeCSVField(_ bytes: UnsafeRawBufferPointer, delimiter: UInt8, at target: UnsafeMutablePointer<UInt8>) -> Int {
    let count = bytes.count
    guard count > 0 else { return 0 }
    let source = bytes.baseAddress!
    let output = UnsafeMutableRawPointer(target)
    let marks = (ByteScan.splat(delimiter), ByteScan.splat(0x22), ByteScan.splat(0x0A), ByteScan.splat(0x0D))
    @inline(__always) func special(_ word: UInt64) -> UInt64 {
        ByteScan.zeroMarks(word ^ marks.0) | ByteScan.zeroMarks(word ^ marks.1) | ByteScan.zeroMarks(word ^ marks.2)
            | ByteScan.zeroMarks(word ^ marks.3)
    }
    var found: UInt64
    if count <= 8 {
        // Only the value's own bytes count (the padding is zero, which a NUL delimiter would match); a mark is never
        // set below a real match, so the padding's cannot reach them.
        let word = ByteScan.loadPartial(source, count)
        output.storeBytes(of: word, as: UInt64.self)
        found = special(word) & (count == 8 ? ~0 : (1 << UInt64(8 &* count)) &- 1)
    } else {
        // Whole words, then the last eight bytes (overlapping the words before: rewritten with the same bytes).
        found = 0
        var position = 0
        while position + 8 < count {
            let word = source.loadUnaligned(fromByteOffset: position, as: UInt64.self)
            output.storeBytes(of: word, toByteOffset: position, as: UInt64.self)
            found |= special(word)
            position += 8
        }
        let last = source.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
        output.storeBytes(of: last, toByteOffset: count - 8, as: UInt64.self)
        found |= special(last)
    }
    if _fastPath(found == 0) { return count }
    var quoted = target
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
    return quoted + 1 - target
}

/// The room ``writeCSVField(_:delimiter:at:)`` needs for a value of `count` bytes: every byte doubled, two quotes,
/// and a word of slack for the word stores.
@inline(__always)
func csvFieldRoom(_ count: Int) -> Int { 2 &* count &+ 10 }
