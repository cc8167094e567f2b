import Testing
@testable import SDataGovernance

/// The lanes find a quasi-identifier's ids in a direct-mapped cache before its dictionaries: an entry may answer only
/// for exactly the bytes it was filled with, whatever their length (NUL bytes, which the words' zero padding also
/// holds, included), and a value that misses must be told apart from the one in its entry.
struct ValueCacheTests {
    @Test func anEntryAnswersOnlyForItsOwnBytes() {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next(_ bound: Int) -> Int {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Int(state % UInt64(bound))
        }
        let cache = ValueCache(columns: 3)
        let alphabet: [UInt8] = [0x00, 0x01, 0x30, 0x39, 0x2D, 0xEA, 0xB0, 0x80, 0xFF]
        var values: [[UInt8]] = [[], [0], [0, 0], Array(repeating: 0, count: 32)]
        for _ in 0 ..< 3000 { values.append((0 ..< next(33)).map { _ in alphabet[next(alphabet.count)] }) }
        // Near misses: one byte changed, one added or removed.
        for value in values.prefix(500) where !value.isEmpty {
            var changed = value
            changed[next(value.count)] ^= 0x01
            values += [changed, value + [0], Array(value.dropLast())]
        }
        var filled: [Int: [UInt8]] = [:]  // entry address → the value it holds
        for (number, value) in values.enumerated() {
            let column = number % 3
            value.withUnsafeBytes { bytes in
                let words = ValueCache.words(bytes)
                let entry = cache.entry(column: column, words: words, length: bytes.count)
                let key = Int(bitPattern: entry)
                let holds = ValueCache.holds(entry, words, length: bytes.count)
                #expect(holds == (filled[key] == value), "\(value) against \(filled[key] ?? [])")
                entry.pointee = ValueCache.Entry(words: words, length: UInt32(bytes.count), raw: UInt32(number),
                                                 canonical: UInt32(number))
                filled[key] = value
            }
        }
        cache.removeAll()
        for value in values {
            value.withUnsafeBytes { bytes in
                let words = ValueCache.words(bytes)
                #expect(!ValueCache.holds(cache.entry(column: 0, words: words, length: bytes.count), words,
                                          length: bytes.count))
            }
        }
    }
}
