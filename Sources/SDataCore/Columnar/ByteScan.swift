/// Eight-bytes-at-a-time searches for the columnar engine's parser and writers ("SWAR": SIMD within a register).
///
/// `(word - 0x01…01) & ~word & 0x80…80` marks the zero bytes of `word` (and possibly bytes above the first one, never
/// below), so the lowest mark is exact: the first match.
public enum ByteScan {
    @inline(__always)
    static func zeroMarks(_ word: UInt64) -> UInt64 {
        (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080
    }

    @inline(__always)
    static func splat(_ byte: UInt8) -> UInt64 { UInt64(byte) &* 0x0101_0101_0101_0101 }

    /// The offset of the first of `a`, `b` or `c` in `base[from ..< end]`, or `end`.
    @inline(__always)
    public static func first(of a: UInt8, _ b: UInt8, _ c: UInt8, in base: UnsafePointer<UInt8>, from: Int, end: Int) -> Int {
        var position = from
        let sa = splat(a), sb = splat(b), sc = splat(c)
        while position + 8 <= end {
            let word = UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self)
            let marks = zeroMarks(word ^ sa) | zeroMarks(word ^ sb) | zeroMarks(word ^ sc)
            if marks != 0 { return position + marks.trailingZeroBitCount >> 3 }
            position += 8
        }
        while position < end {
            let byte = base[position]
            if byte == a || byte == b || byte == c { return position }
            position += 1
        }
        return end
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

    /// How many bytes of `bytes` equal `a` or `b`.
    public static func count(_ a: UInt8, _ b: UInt8, in bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var total = 0
        for byte in bytes where byte == a || byte == b { total += 1 }
        return total
    }
}
