import SDataCore

/// A direct-mapped cache of the quasi-identifiers' values in front of their dictionaries (``LaneState``'s
/// `columnRaw` and `columnMap`): per column, ``size`` entries of a value of up to 32 bytes (as four words and its
/// length) with its raw and canonical ids. Quasi-identifiers have few distinct values (sex, an age band, a
/// district, an hour), so most rows find theirs here with one multiply-and-shift hash and four word compares, where
/// the dictionary hashed every byte through a chain of multiplies, probed and compared the rest of a long key in
/// its arena (`perf`, 1M rows: `ByteTable.insert`, 4.5 calls a row, was 6 % of a run). A value that misses takes
/// the dictionary, which stays the authority, and replaces the entry. Longer values always take the dictionary.
struct ValueCache {
    struct Entry {
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        /// The value's length; ``ValueCache/empty`` in an unused entry.
        var length: UInt32 = ValueCache.empty
        var raw: UInt32 = 0
        var canonical: UInt32 = 0
    }

    static let maximumLength = 32
    static let empty = UInt32.max
    /// Entries per column: a few hundred hours of timestamps fit with few collisions; the entries touched are all
    /// that occupy the caches.
    static let size = 1 << bits
    static let bits = 10

    private final class Storage {
        let entries: UnsafeMutablePointer<Entry>
        let count: Int
        init(columns: Int) {
            count = columns * ValueCache.size
            entries = .allocate(capacity: max(count, 1))
            entries.initialize(repeating: Entry(), count: max(count, 1))
        }
        deinit { entries.deinitialize(count: max(count, 1)).deallocate() }
    }

    private let storage: Storage

    init(columns: Int) { storage = Storage(columns: columns) }

    /// `bytes` (at most ``maximumLength``) as four words, zero-padded: equal words and lengths are equal values.
    @inline(__always)
    static func words(_ bytes: UnsafeRawBufferPointer) -> (UInt64, UInt64, UInt64, UInt64) {
        let count = bytes.count
        guard let base = bytes.baseAddress, count > 0 else { return (0, 0, 0, 0) }
        @inline(__always) func word(_ offset: Int) -> UInt64 {
            let rest = count - offset
            if rest >= 8 { return base.loadUnaligned(fromByteOffset: offset, as: UInt64.self) }
            return rest > 0 ? ByteScan.loadPartial(base + offset, rest) : 0
        }
        return (word(0), word(8), word(16), word(24))
    }

    /// The entry where `words` (of a value of `length` bytes) of column `column` belongs.
    @inline(__always)
    func entry(column: Int, words: (UInt64, UInt64, UInt64, UInt64), length: Int) -> UnsafeMutablePointer<Entry> {
        // Four independent multiplies, folded; the top bits depend on every bit of every word.
        var hash = words.0 &* 0x9E37_79B9_7F4A_7C15 ^ words.1 &* 0xC2B2_AE3D_27D4_EB4F
        hash ^= (words.2 ^ UInt64(truncatingIfNeeded: length)) &* 0x1656_67B1_9E37_79F9 ^ words.3 &* 0xD6E8_FEB8_6659_FD93
        hash ^= hash >> 29
        hash &*= 0xBF58_476D_1CE4_E5B9
        let index = Int(truncatingIfNeeded: hash >> UInt64(64 - ValueCache.bits))
        return storage.entries + (column &* ValueCache.size &+ index)
    }

    /// Whether `entry` holds the value with these words and length.
    @inline(__always)
    static func holds(_ entry: UnsafeMutablePointer<Entry>, _ words: (UInt64, UInt64, UInt64, UInt64),
                      length: Int) -> Bool {
        let stored = entry.pointee
        return stored.length == UInt32(truncatingIfNeeded: length) && stored.words.0 == words.0
            && stored.words.1 == words.1 && stored.words.2 == words.2 && stored.words.3 == words.3
    }

    /// Forgets every value (the dictionaries behind it were released).
    func removeAll() {
        storage.entries.update(repeating: Entry(), count: storage.count)
    }
}
