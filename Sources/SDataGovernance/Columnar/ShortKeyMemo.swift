import CSDataIntrinsics
import SDataCore

/// A cache from keys of at most 16 bytes to a 64-bit value kept in the key's own slot, for the pseudonym memo:
/// a phone number looked up costs one cache miss (slot), where ``ByteTable`` and a digest array beside it cost two
/// (slot, then digest) — 93 % of the pseudonymize step's own time at 1M rows was that second miss.
///
/// Two-way set-associative over 32-byte slots (a key lives in one of the two slots of its bucket): the table doubles
/// while it is at most half full, up to ``maximumSlots``; past that, or when a bucket is taken, a new key evicts the
/// bucket's older one. Memory is bounded whatever the number of distinct values, and the values seen often stay: a
/// memo that started again when full lost them all (at 10M rows, 500,000 distinct phone numbers on a memo of 65,536
/// made pass 1 take 25 % longer than with all of them kept). Not thread-safe: each lane keeps its own.
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
    /// The slots the table grows to: 8 MiB.
    let maximumSlots: Int
    /// The slots in use.
    private(set) var count = 0

    init(capacity: Int = 1 << 12, maximumSlots: Int = 1 << 18) {
        self.maximumSlots = max(2, maximumSlots)
        var size = 2
        while size < capacity * 2 && size < self.maximumSlots { size <<= 1 }
        slots = Array(repeating: Slot(), count: size)
        mask = size - 1
    }

    /// The value stored for `key` (at most ``maximumKey`` bytes), or `nil` (never stored, or evicted).
    ///
    /// `mutating` though it changes nothing, like ``prefetch(_:)``: reached through the lane's array of memos, a
    /// non-mutating call reads the memo out by copy, which retains and releases the slots' storage around every
    /// lookup (two atomic operations a row: `perf` put 3.7 % of the row loop on the instruction after the retain).
    @inline(__always)
    mutating func find(_ key: UnsafeRawBufferPointer) -> UInt64? {
        let (head0, head1, hash) = ShortKeyMemo.probe(key)
        let check = ShortKeyMemo.check(hash, key.count)
        let index = Int(truncatingIfNeeded: hash) & mask & ~1
        return slots.withUnsafeBufferPointer { slots in
            let first = slots[index]
            if first.check == check && first.head0 == head0 && first.head1 == head1 { return first.value }
            let second = slots[index + 1]
            if second.check == check && second.head0 == head0 && second.head1 == head1 { return second.value }
            return nil
        }
    }

    /// Starts bringing `key`'s bucket into the caches, for a ``find(_:)`` a little later: a lookup in a table of
    /// megabytes otherwise waits for memory. The bucket's 64 bytes may straddle two cache lines (an array's
    /// elements start 32 bytes into its storage): both are asked for.
    @inline(__always)
    mutating func prefetch(_ key: UnsafeRawBufferPointer) {
        let (_, _, hash) = ShortKeyMemo.probe(key)
        let index = Int(truncatingIfNeeded: hash) & mask & ~1
        slots.withUnsafeBufferPointer { slots in
            let address = UnsafeRawPointer(slots.baseAddress! + index)
            sdata_prefetch_read(address)
            sdata_prefetch_read(address + 2 * MemoryLayout<Slot>.stride - 1)
        }
    }

    /// Stores `value` for `key` (at most ``maximumKey`` bytes, not found in the table).
    mutating func insert(_ key: UnsafeRawBufferPointer, value: UInt64) {
        if count * 2 >= slots.count && slots.count < maximumSlots { grow() }
        let (head0, head1, hash) = ShortKeyMemo.probe(key)
        count += place(Slot(check: ShortKeyMemo.check(hash, key.count), head0: head0, head1: head1, value: value), hash: hash)
    }

    /// Forgets every key.
    mutating func removeAll() {
        for index in slots.indices { slots[index] = Slot() }
        count = 0
    }

    /// Puts `slot` first in its bucket, the bucket's first key second (the second one, if any, is evicted); how
    /// many more slots are used.
    private mutating func place(_ slot: Slot, hash: UInt64) -> Int {
        let index = Int(truncatingIfNeeded: hash) & mask & ~1
        return slots.withUnsafeMutableBufferPointer { slots in
            let before = (slots[index].check == 0 ? 0 : 1) + (slots[index + 1].check == 0 ? 0 : 1)
            if slots[index].check != 0 { slots[index + 1] = slots[index] }
            slots[index] = slot
            return 1 + (slots[index + 1].check == 0 ? 0 : 1) - before
        }
    }

    private mutating func grow() {
        let old = slots
        slots = Array(repeating: Slot(), count: old.count * 2)
        mask = slots.count - 1
        count = 0
        // Second slots first, so that a bucket's newer key stays first where both land in one bucket again.
        for second in [1, 0] {
            for index in stride(from: second, to: old.count, by: 2) where old[index].check != 0 {
                let slot = old[index]
                count += place(slot, hash: ShortKeyMemo.hash(slot.head0, slot.head1, Int(slot.check & 0x1F)))
            }
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
