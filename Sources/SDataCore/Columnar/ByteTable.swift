/// A hash table from byte strings to dense ids (0, 1, 2, … in order of first insertion), for the columnar engine's
/// hot loops: k-anonymity classes, pseudonym memos, column dictionaries.
///
/// Swift's `Dictionary<[UInt8], …>` hashes with SipHash byte by byte and allocates an array per key; this table
/// probes linearly over 32-byte slots that hold the hash, the id, the length and the first 16 bytes of the key, so a
/// lookup of a key of up to 16 bytes touches one cache line (longer keys compare their rest in one arena). Values
/// live beside it in the caller's arrays, indexed by id. Not thread-safe: each worker keeps its own.
public struct ByteTable: Sendable {
    struct Slot {
        var hash: UInt64 = 0
        /// `id + 1`; 0 for an empty slot.
        var tag: UInt32 = 0
        var length: UInt32 = 0
        var head0: UInt64 = 0
        var head1: UInt64 = 0
    }

    private var slots: [Slot]
    private var mask: Int
    /// Every key in full, and where key `id` starts in it.
    private var arena: [UInt8] = []
    private var starts: [Int] = []

    public init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = Array(repeating: Slot(), count: size)
        mask = size - 1
    }

    public var count: Int { starts.count }
    public var isEmpty: Bool { starts.isEmpty }

    /// The id of `key`, inserting it when new.
    @inline(__always)
    public mutating func insert(_ key: UnsafeRawBufferPointer) -> (id: Int, inserted: Bool) {
        let (found, index, probe) = lookup(key)
        if let found { return (found, false) }
        let id = starts.count
        starts.append(arena.count)
        arena.append(contentsOf: key)
        slots[index] = Slot(hash: probe.hash, tag: UInt32(id + 1), length: UInt32(truncatingIfNeeded: key.count),
                            head0: probe.head0, head1: probe.head1)
        if starts.count * 2 > slots.count { grow() }
        return (id, true)
    }

    /// The id of `key`, or `nil` when it is not in the table.
    @inline(__always)
    public func find(_ key: UnsafeRawBufferPointer) -> Int? { lookup(key).id }

    /// Probes for `key`: its id when present, else the empty slot where it would go; and its hash and head words.
    @inline(__always)
    private func lookup(_ key: UnsafeRawBufferPointer) -> (id: Int?, slot: Int, probe: (hash: UInt64, head0: UInt64, head1: UInt64)) {
        let hash = ByteTable.hash(key)
        let (head0, head1) = ByteTable.heads(key)
        let length = UInt32(truncatingIfNeeded: key.count)
        var index = Int(truncatingIfNeeded: hash) & mask
        let found: Int? = slots.withUnsafeBufferPointer { slots in
            while true {
                let slot = slots[index]
                if slot.tag == 0 { return nil }
                if slot.hash == hash, slot.length == length, slot.head0 == head0, slot.head1 == head1,
                   key.count <= 16 || tailEquals(Int(slot.tag) - 1, key) {
                    return Int(slot.tag) - 1
                }
                index = (index + 1) & mask
            }
        }
        return (found, index, (hash, head0, head1))
    }

    /// Calls `body` with the bytes of key `id`.
    public func withKey<R>(_ id: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let end = id + 1 < starts.count ? starts[id + 1] : arena.count
        return try arena.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[starts[id] ..< end])) }
    }

    /// Forgets every key (a memo that reached its bound).
    public mutating func removeAll() {
        arena.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)
        for index in slots.indices { slots[index] = Slot() }
    }

    /// Bytes 16… of key `id` equal those of `key` (the first 16 and the length are compared in the slot).
    private func tailEquals(_ id: Int, _ key: UnsafeRawBufferPointer) -> Bool {
        arena.withUnsafeBytes { stored in
            memoryEqual(stored.baseAddress! + starts[id] + 16, key.baseAddress! + 16, key.count - 16)
        }
    }

    private mutating func grow() {
        let size = slots.count * 2
        var grown = Array(repeating: Slot(), count: size)
        mask = size - 1
        for slot in slots where slot.tag != 0 {
            var index = Int(truncatingIfNeeded: slot.hash) & mask
            while grown[index].tag != 0 { index = (index + 1) & mask }
            grown[index] = slot
        }
        slots = grown
    }

    /// The first 16 bytes of `key`, zero-padded, as two words.
    @inline(__always)
    static func heads(_ key: UnsafeRawBufferPointer) -> (UInt64, UInt64) {
        let count = key.count
        if count >= 16 {
            return (key.loadUnaligned(fromByteOffset: 0, as: UInt64.self), key.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        }
        var words: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &words) { target in
            if count > 0 { target.copyMemory(from: key) }
        }
        return words
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
