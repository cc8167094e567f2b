import CSDataIntrinsics

/// A hash table from byte strings to dense ids (0, 1, 2, … in order of first insertion), for the columnar engine's
/// hot loops: k-anonymity classes, pseudonym memos, column dictionaries.
///
/// Swift's `Dictionary<[UInt8], …>` hashes with SipHash byte by byte and allocates an array per key; this table
/// probes linearly over 24-byte slots that hold the id, the length, 16 bits of the hash and the first 16 bytes of the
/// key, so a lookup of a key of up to 16 bytes usually touches one cache line (longer keys compare their rest in one
/// arena). The table grows at three quarters full: the k-anonymity classes and pseudonym memos of a large run are
/// the engine's biggest structures, and a slot without the full hash (recomputed from the arena when the table
/// grows) and a fuller table hold them in less than half the memory. Values live beside it in the caller's arrays,
/// indexed by id. Not thread-safe: each worker keeps its own.
public struct ByteTable: Sendable {
    struct Slot {
        /// `id + 1`; 0 for an empty slot.
        var tag: UInt32 = 0
        /// The key's length (at most 0xFFFF; longer keys compare their stored length) and 16 bits of its hash.
        var check: UInt32 = 0
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
        while size * 3 < capacity * 4 { size <<= 1 }
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
        slots[index] = Slot(tag: UInt32(id + 1), check: probe.check, head0: probe.head0, head1: probe.head1)
        if starts.count * 4 > slots.count * 3 { grow() }
        return (id, true)
    }

    /// The id of `key`, or `nil` when it is not in the table.
    @inline(__always)
    public func find(_ key: UnsafeRawBufferPointer) -> Int? { lookup(key).id }

    /// Starts bringing the slot where a lookup of `key` begins into the caches, for an ``insert(_:)`` or
    /// ``find(_:)`` a little later (a table of megabytes otherwise makes that lookup wait for memory). A slot may
    /// straddle two cache lines: both are asked for.
    @inline(__always)
    public func prefetch(_ key: UnsafeRawBufferPointer) {
        let index = Int(truncatingIfNeeded: ByteTable.hash(key)) & mask
        slots.withUnsafeBufferPointer { slots in
            let address = UnsafeRawPointer(slots.baseAddress! + index)
            sdata_prefetch_read(address)
            sdata_prefetch_read(address + MemoryLayout<Slot>.stride - 1)
        }
    }

    /// Probes for `key`: its id when present, else the empty slot where it would go; and its hash and head words.
    @inline(__always)
    private func lookup(_ key: UnsafeRawBufferPointer) -> (id: Int?, slot: Int, probe: (check: UInt32, head0: UInt64, head1: UInt64)) {
        let hash = ByteTable.hash(key)
        let (head0, head1) = ByteTable.heads(key)
        let check = ByteTable.check(hash: hash, length: key.count)
        var index = Int(truncatingIfNeeded: hash) & mask
        let found: Int? = slots.withUnsafeBufferPointer { slots in
            while true {
                let slot = slots[index]
                if slot.tag == 0 { return nil }
                if slot.check == check, slot.head0 == head0, slot.head1 == head1,
                   key.count <= 16 || tailEquals(Int(slot.tag) - 1, key) {
                    return Int(slot.tag) - 1
                }
                index = (index + 1) & mask
            }
        }
        return (found, index, (check, head0, head1))
    }

    /// The slot's check word: the length (capped) in the low half, the hash's top 16 bits in the high half (the low
    /// bits pick the slot).
    @inline(__always)
    static func check(hash: UInt64, length: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: hash >> 48) << 16 | UInt32(truncatingIfNeeded: min(length, 0xFFFF))
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

    /// Bytes 16… of key `id` equal those of `key` (the first 16 and a length below 0xFFFF are compared in the slot).
    private func tailEquals(_ id: Int, _ key: UnsafeRawBufferPointer) -> Bool {
        let start = starts[id]
        if key.count >= 0xFFFF, (id + 1 < starts.count ? starts[id + 1] : arena.count) - start != key.count { return false }
        return arena.withUnsafeBytes { stored in
            memoryEqual(stored.baseAddress! + start + 16, key.baseAddress! + 16, key.count - 16)
        }
    }

    /// Doubles the slots, placing every key by its hash again (recomputed from the arena: slots keep 16 bits of it).
    private mutating func grow() {
        let size = slots.count * 2
        var grown = Array(repeating: Slot(), count: size)
        mask = size - 1
        let mask = self.mask
        arena.withUnsafeBytes { stored in
            grown.withUnsafeMutableBufferPointer { grown in
                for id in starts.indices {
                    let end = id + 1 < starts.count ? starts[id + 1] : stored.count
                    let key = UnsafeRawBufferPointer(rebasing: stored[starts[id] ..< end])
                    let hash = ByteTable.hash(key)
                    let (head0, head1) = ByteTable.heads(key)
                    var index = Int(truncatingIfNeeded: hash) & mask
                    while grown[index].tag != 0 { index = (index + 1) & mask }
                    grown[index] = Slot(tag: UInt32(id + 1), check: ByteTable.check(hash: hash, length: key.count),
                                        head0: head0, head1: head1)
                }
            }
        }
        slots = grown
    }

    /// The first 16 bytes of `key`, zero-padded, as two words.
    @inline(__always)
    static func heads(_ key: UnsafeRawBufferPointer) -> (UInt64, UInt64) {
        let count = key.count
        guard let base = key.baseAddress else { return (0, 0) }
        if count >= 16 {
            return (base.loadUnaligned(as: UInt64.self), base.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        }
        if count > 8 { return (base.loadUnaligned(as: UInt64.self), ByteScan.loadPartial(base + 8, count - 8)) }
        return (ByteScan.loadPartial(base, count), 0)
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
            let tail = ByteScan.loadPartial(key.baseAddress! + offset, key.count - offset)
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
