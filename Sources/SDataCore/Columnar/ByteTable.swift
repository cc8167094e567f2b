/// A hash table from byte strings to dense ids (0, 1, 2, … in order of first insertion), for the columnar engine's
/// hot loops: k-anonymity classes, pseudonym memos.
///
/// Swift's `Dictionary<[UInt8], …>` hashes with SipHash byte by byte and allocates an array per key; this table keeps
/// every key in one arena, hashes eight bytes at a time and probes linearly, so a lookup of a short key costs a few
/// nanoseconds and no allocation. Values live beside it in the caller's arrays, indexed by id. Not thread-safe: each
/// worker keeps its own.
public struct ByteTable: Sendable {
    private var arena: [UInt8] = []
    /// Key `id` is `arena[bounds[id] ..< bounds[id + 1]]`.
    private var bounds: [Int] = [0]
    private var hashes: [UInt64] = []
    /// `-1` for an empty slot, otherwise an id.
    private var slots: [Int32]
    private var mask: Int

    public init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = Array(repeating: -1, count: size)
        mask = size - 1
    }

    public var count: Int { hashes.count }
    public var isEmpty: Bool { hashes.isEmpty }

    /// The id of `key`, inserting it when new.
    @inline(__always)
    public mutating func insert(_ key: UnsafeRawBufferPointer) -> (id: Int, inserted: Bool) {
        let hash = ByteTable.hash(key)
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let id = Int(slots[slot])
            if id < 0 { break }
            if hashes[id] == hash, equals(id, key) { return (id, false) }
            slot = (slot + 1) & mask
        }
        let id = hashes.count
        hashes.append(hash)
        arena.append(contentsOf: key)
        bounds.append(arena.count)
        slots[slot] = Int32(id)
        if hashes.count * 2 > slots.count { grow() }
        return (id, true)
    }

    /// The id of `key`, or `nil` when it is not in the table.
    @inline(__always)
    public func find(_ key: UnsafeRawBufferPointer) -> Int? {
        let hash = ByteTable.hash(key)
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let id = Int(slots[slot])
            if id < 0 { return nil }
            if hashes[id] == hash, equals(id, key) { return id }
            slot = (slot + 1) & mask
        }
    }

    /// Calls `body` with the bytes of key `id`.
    public func withKey<R>(_ id: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try arena.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[bounds[id] ..< bounds[id + 1]])) }
    }

    /// Forgets every key (a memo that reached its bound).
    public mutating func removeAll() {
        arena.removeAll(keepingCapacity: true)
        bounds = [0]
        hashes.removeAll(keepingCapacity: true)
        for index in slots.indices { slots[index] = -1 }
    }

    @inline(__always)
    private func equals(_ id: Int, _ key: UnsafeRawBufferPointer) -> Bool {
        let start = bounds[id], end = bounds[id + 1]
        guard end - start == key.count else { return false }
        if key.isEmpty { return true }
        return arena.withUnsafeBytes { stored in
            memoryEqual(stored.baseAddress! + start, key.baseAddress!, key.count)
        }
    }

    private mutating func grow() {
        let size = slots.count * 2
        slots = Array(repeating: -1, count: size)
        mask = size - 1
        for (id, hash) in hashes.enumerated() {
            var slot = Int(truncatingIfNeeded: hash) & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(id)
        }
    }

    /// A 64-bit hash of `key`: eight bytes at a time through a multiply-xorshift mix, then murmur3's finalizer, so
    /// the low bits used for the slot depend on every byte.
    @inline(__always)
    public static func hash(_ key: UnsafeRawBufferPointer) -> UInt64 {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(key.count)
        var offset = 0
        while offset + 8 <= key.count {
            let word = key.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            state = (state ^ word) &* 0xBF58_476D_1CE4_E5B9
            state ^= state >> 29
            offset += 8
        }
        if offset < key.count {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while offset < key.count {
                tail |= UInt64(key[offset]) << shift
                shift += 8
                offset += 1
            }
            state = (state ^ tail) &* 0x94D0_49BB_1331_11EB
        }
        state ^= state >> 33
        state &*= 0xFF51_AFD7_ED55_8CCD
        state ^= state >> 33
        state &*= 0xC4CE_B9FE_1A85_EC53
        state ^= state >> 33
        return state
    }
}

@inline(__always)
func memoryEqual(_ lhs: UnsafeRawPointer, _ rhs: UnsafeRawPointer, _ count: Int) -> Bool {
    var index = 0
    while index + 8 <= count {
        if lhs.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            != rhs.loadUnaligned(fromByteOffset: index, as: UInt64.self) { return false }
        index += 8
    }
    while index < count {
        if lhs.load(fromByteOffset: index, as: UInt8.self) != rhs.load(fromByteOffset: index, as: UInt8.self) {
            return false
        }
        index += 1
    }
    return true
}
