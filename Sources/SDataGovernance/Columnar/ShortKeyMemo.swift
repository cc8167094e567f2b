import SDataCore

/// A hash table from keys of at most 16 bytes to a 64-bit value kept in the key's own slot, for the pseudonym memo:
/// a phone number looked up costs one cache miss (slot), where ``ByteTable`` and a digest array beside it cost two
/// (slot, then digest) — 93 % of the pseudonymize step's own time at 1M rows was that second miss.
///
/// Open addressing with linear probing over 32-byte slots (two to a cache line), grown at three quarters full. Not
/// thread-safe: each lane keeps its own.
struct ShortKeyMemo {
    struct Slot {
        /// The key's length (bits 0–4), 1 in bit 15 for a used slot, 16 bits of the hash in bits 16–31.
        var check: UInt32 = 0
        var head0: UInt64 = 0
        var head1: UInt64 = 0
        var value: UInt64 = 0
    }

    static let maximumKey = 16

    private var slots: [Slot]
    private var mask: Int
    private(set) var count = 0

    init(capacity: Int = 1 << 12) {
        var size = 16
        while size * 3 < capacity * 4 { size <<= 1 }
        slots = Array(repeating: Slot(), count: size)
        mask = size - 1
    }

    /// The value stored for `key` (at most ``maximumKey`` bytes), or `nil`.
    @inline(__always)
    func find(_ key: UnsafeRawBufferPointer) -> UInt64? {
        let (head0, head1, hash) = ShortKeyMemo.probe(key)
        let check = ShortKeyMemo.check(hash, key.count)
        var index = Int(truncatingIfNeeded: hash) & mask
        return slots.withUnsafeBufferPointer { slots in
            while true {
                let slot = slots[index]
                if slot.check == 0 { return nil }
                if slot.check == check && slot.head0 == head0 && slot.head1 == head1 { return slot.value }
                index = (index &+ 1) & mask
            }
        }
    }

    /// Stores `value` for `key` (at most ``maximumKey`` bytes, not yet in the table).
    mutating func insert(_ key: UnsafeRawBufferPointer, value: UInt64) {
        let (head0, head1, hash) = ShortKeyMemo.probe(key)
        place(Slot(check: ShortKeyMemo.check(hash, key.count), head0: head0, head1: head1, value: value), hash: hash)
        count += 1
        if count * 4 > slots.count * 3 { grow() }
    }

    /// Forgets every key (a memo that reached its bound).
    mutating func removeAll() {
        for index in slots.indices { slots[index] = Slot() }
        count = 0
    }

    private mutating func place(_ slot: Slot, hash: UInt64) {
        var index = Int(truncatingIfNeeded: hash) & mask
        slots.withUnsafeMutableBufferPointer { slots in
            while slots[index].check != 0 { index = (index &+ 1) & mask }
            slots[index] = slot
        }
    }

    private mutating func grow() {
        let old = slots
        slots = Array(repeating: Slot(), count: old.count * 2)
        mask = slots.count - 1
        for slot in old where slot.check != 0 {
            place(slot, hash: ShortKeyMemo.hash(slot.head0, slot.head1, Int(slot.check & 0x1F)))
        }
    }

    /// The key's two zero-padded words and its hash.
    @inline(__always)
    private static func probe(_ key: UnsafeRawBufferPointer) -> (UInt64, UInt64, UInt64) {
        let count = key.count
        var head0: UInt64 = 0, head1: UInt64 = 0
        if let base = key.baseAddress {
            if count > 8 {
                head0 = base.loadUnaligned(as: UInt64.self)
                head1 = ByteScan.loadPartial(base + 8, count - 8)
            } else {
                head0 = ByteScan.loadPartial(base, count)
            }
        }
        return (head0, head1, hash(head0, head1, count))
    }

    @inline(__always)
    private static func hash(_ head0: UInt64, _ head1: UInt64, _ count: Int) -> UInt64 {
        var state = (head0 ^ 0x9E37_79B9_7F4A_7C15 ^ UInt64(count)) &* 0xBF58_476D_1CE4_E5B9
        state ^= state >> 29
        state = (state ^ head1) &* 0x94D0_49BB_1331_11EB
        state ^= state >> 32
        state &*= 0xFF51_AFD7_ED55_8CCD
        state ^= state >> 33
        return state
    }

    @inline(__always)
    private static func check(_ hash: UInt64, _ count: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: hash >> 48) << 16 | 0x8000 | UInt32(truncatingIfNeeded: count)
    }
}
