import CSDataIntrinsics

/// Byte searches for the columnar engine's parser and writers: eight bytes at a time in a word ("SWAR": SIMD within a
/// register), or sixteen and sixty-four with vector compares.
///
/// `(word - 0x01…01) & ~word & 0x80…80` marks the zero bytes of `word` (and possibly bytes above the first one, never
/// below), so the lowest mark is exact: the first match.
public enum ByteScan {
    @inlinable @inline(__always)
    public static func zeroMarks(_ word: UInt64) -> UInt64 {
        (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080
    }

    @inlinable @inline(__always)
    public static func splat(_ byte: UInt8) -> UInt64 { UInt64(byte) &* 0x0101_0101_0101_0101 }

    /// Bytes `0 ..< count` of `source` (`count` at most 8) as the low bytes of a little-endian word, the rest zero;
    /// reads no byte at or past `count` (a key may end at the end of a mapped page).
    @inlinable @inline(__always)
    public static func loadPartial(_ source: UnsafeRawPointer, _ count: Int) -> UInt64 {
        if count >= 8 { return source.loadUnaligned(as: UInt64.self) }
        if count >= 4 {
            let low = UInt64(source.loadUnaligned(as: UInt32.self))
            let high = UInt64(source.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self))
            return low | (high >> (8 * (8 - count))) << 32
        }
        guard count > 0 else { return 0 }
        let first = UInt64(source.load(as: UInt8.self))
        let middle = UInt64(source.load(fromByteOffset: count >> 1, as: UInt8.self))
        let last = UInt64(source.load(fromByteOffset: count - 1, as: UInt8.self))
        return first | middle << (8 * (count >> 1)) | last << (8 * (count - 1))
    }

    /// Copies `count` bytes; up to 16 with two overlapping loads and stores instead of a call to `memmove` (the
    /// lanes copy short values: pseudonyms, bands, codes). Writes exactly `count` bytes; the ranges must not overlap.
    @inlinable @inline(__always)
    public static func copy(from source: UnsafeRawPointer, to target: UnsafeMutableRawPointer, count: Int) {
        if count > 16 {
            target.copyMemory(from: source, byteCount: count)
        } else if count >= 8 {
            let head = source.loadUnaligned(as: UInt64.self)
            let tail = source.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
            target.storeBytes(of: head, as: UInt64.self)
            target.storeBytes(of: tail, toByteOffset: count - 8, as: UInt64.self)
        } else if count >= 4 {
            let head = source.loadUnaligned(as: UInt32.self)
            let tail = source.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)
            target.storeBytes(of: head, as: UInt32.self)
            target.storeBytes(of: tail, toByteOffset: count - 4, as: UInt32.self)
        } else if count > 0 {
            target.storeBytes(of: source.load(as: UInt8.self), as: UInt8.self)
            target.storeBytes(of: source.load(fromByteOffset: count >> 1, as: UInt8.self), toByteOffset: count >> 1,
                              as: UInt8.self)
            target.storeBytes(of: source.load(fromByteOffset: count - 1, as: UInt8.self), toByteOffset: count - 1,
                              as: UInt8.self)
        }
    }

    /// The bytes of `base[start ..< min(start + 64, end)]` that equal `a`, `b` or `c`, as the bits of a word (byte
    /// `start + i` → bit `i`; none past `end`): 64 bytes per call with vector compares (`sdata_match_mask64`). Reads
    /// nothing at or past `end` (a chunk may end at the end of a mapped file): a shorter tail is copied first.
    @inline(__always)
    public static func matchMask(of a: UInt8, _ b: UInt8, _ c: UInt8, in base: UnsafePointer<UInt8>, at start: Int,
                                 end: Int) -> UInt64 {
        if start + 64 <= end { return sdata_match_mask64(base + start, a, b, c) }
        return tailMask(of: a, b, c, in: base, at: start, end: end)
    }

    @inline(never)
    static func tailMask(of a: UInt8, _ b: UInt8, _ c: UInt8, in base: UnsafePointer<UInt8>, at start: Int,
                         end: Int) -> UInt64 {
        let count = max(0, min(64, end - start))
        guard count > 0 else { return 0 }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { block in
            block.initialize(repeating: 0)
            _ = block.initialize(from: UnsafeBufferPointer(start: base + start, count: count))
            let mask = sdata_match_mask64(block.baseAddress!, a, b, c)
            return count == 64 ? mask : mask & (1 << UInt64(count) - 1)
        }
    }

    /// Whether `bytes` holds any of `a`, `b`, `c` or `d` (CSV: a field that needs quotes).
    @inline(__always)
    public static func contains(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, in bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let count = bytes.count
        var position = 0
        let sa = splat(a), sb = splat(b), sc = splat(c), sd = splat(d)
        while position + 8 <= count {
            let word = base.loadUnaligned(fromByteOffset: position, as: UInt64.self)
            if zeroMarks(word ^ sa) | zeroMarks(word ^ sb) | zeroMarks(word ^ sc) | zeroMarks(word ^ sd) != 0 {
                return true
            }
            position += 8
        }
        while position < count {
            let byte = bytes[position]
            if byte == a || byte == b || byte == c || byte == d { return true }
            position += 1
        }
        return false
    }

    /// How many bytes of `bytes` equal `a`: sixteen at a time with vector compares (SSE2, the baseline of every
    /// x86-64), each match adding one to a byte lane of an accumulator that is summed every 255 blocks, before a lane
    /// can overflow; the rest eight at a time with exact zero-byte marks. A chunk is counted twice (line feeds for
    /// the parser, quotes for the cut): by words this was 2.5 % of a 1M-row run each.
    public static func count(_ a: UInt8, in bytes: UnsafeBufferPointer<UInt8>) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        let count = bytes.count
        let raw = UnsafeRawPointer(base)
        let target = SIMD16<UInt8>(repeating: a)
        var total = 0
        var position = 0
        while position + 16 <= count {
            var lanes = SIMD16<UInt8>()
            let blocks = min((count - position) / 16, 255)
            for _ in 0 ..< blocks {
                let block = raw.loadUnaligned(fromByteOffset: position, as: SIMD16<UInt8>.self)
                // A match's lane of the mask is all ones (-1): subtracting it adds one.
                lanes &-= unsafeBitCast(block .== target, to: SIMD16<UInt8>.self)
                position += 16
            }
            total += Int(SIMD16<UInt16>(truncatingIfNeeded: lanes).wrappedSum())
        }
        let sa = splat(a)
        let low: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        while position + 8 <= count {
            let word = UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self) ^ sa
            // The high bit of each byte is set when the byte is zero, and only then.
            total &+= (~(((word & low) &+ low) | word | low)).nonzeroBitCount
            position += 8
        }
        while position < count {
            if base[position] == a { total += 1 }
            position += 1
        }
        return total
    }

    /// Whether `bytes` is well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF), checked without
    /// building a `String`: ASCII eight bytes at a time (a word that is not all ASCII skips its leading ASCII bytes in
    /// one step), three-byte sequences — Hangul, CJK — with one four-byte load, the rest by the table of RFC 3629.
    ///
    /// On x86-64 with SSSE3 (every such processor since about 2008) sixteen bytes at a time instead
    /// (`sdata_utf8_valid_ssse3`, the lookup algorithm of Keiser and Lemire): 1M-row tracing input has Hangul in
    /// every record, and this loop was 4 % of a run (`perf`) at 3.5 instructions a byte. With AVX2 thirty-two bytes at
    /// a time (`sdata_utf8_valid_avx2`, the same algorithm).
    public static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        isValidUTF8(bytes, width: vectorWidth)
    }

    /// ``isValidUTF8(_:)`` with vectors of at most `width` bytes (32, 16, or 0 for the word loop), as far as the
    /// processor has them: the tests check every form that can run here.
    public static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>, width: Int) -> Bool {
        #if arch(x86_64)
        if let base = bytes.baseAddress {
            let usable = min(width, vectorWidth)
            if usable >= 32 { return sdata_utf8_valid_avx2(base, bytes.count) != 0 }
            if usable >= 16 { return sdata_utf8_valid_ssse3(base, bytes.count) != 0 }
        }
        #endif
        return isValidUTF8Scalar(bytes)
    }

    /// The widest validator the processor runs: 32 with AVX2, 16 with SSSE3, 0 for the word loop.
    #if arch(x86_64)
    public static let vectorWidth = sdata_has_avx2() != 0 ? 32 : sdata_has_ssse3() != 0 ? 16 : 0
    #else
    public static let vectorWidth = 0
    #endif

    /// ``isValidUTF8(_:)`` on any processor: a word or a byte at a time.
    public static func isValidUTF8Scalar(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let raw = UnsafeRawPointer(base)
        let count = bytes.count
        var position = 0
        while position < count {
            if position + 8 <= count {
                let high = raw.loadUnaligned(fromByteOffset: position, as: UInt64.self).littleEndian
                    & 0x8080_8080_8080_8080
                if high == 0 {
                    position += 8
                    continue
                }
                position += high.trailingZeroBitCount >> 3  // to the first byte that is not ASCII
            }
            let lead = base[position]
            if lead < 0x80 {
                position += 1
                continue
            }
            if lead & 0xF0 == 0xE0, position + 4 <= count {
                // Lead 1110xxxx and two continuation bytes 10xxxxxx, read as one little-endian word.
                let word = raw.loadUnaligned(fromByteOffset: position, as: UInt32.self).littleEndian
                guard word & 0x00C0_C000 == 0x0080_8000 else { return false }
                let second = UInt8(truncatingIfNeeded: word >> 8)
                if lead == 0xE0 && second < 0xA0 { return false }  // overlong
                if lead == 0xED && second > 0x9F { return false }  // surrogates
                position += 3
                continue
            }
            @inline(__always) func continuation(_ offset: Int) -> Bool {
                position + offset < count && base[position + offset] & 0xC0 == 0x80
            }
            switch lead {
            case 0xC2 ... 0xDF:
                guard continuation(1) else { return false }
                position += 2
            case 0xE0 ... 0xEF:
                guard continuation(1), continuation(2) else { return false }
                let second = base[position + 1]
                if lead == 0xE0 && second < 0xA0 { return false }  // overlong
                if lead == 0xED && second > 0x9F { return false }  // surrogates
                position += 3
            case 0xF0 ... 0xF4:
                guard continuation(1), continuation(2), continuation(3) else { return false }
                let second = base[position + 1]
                if lead == 0xF0 && second < 0x90 { return false }
                if lead == 0xF4 && second > 0x8F { return false }
                position += 4
            default:
                return false
            }
        }
        return true
    }
}
