/// Byte-level versions of the value conversions the columnar engine runs per field: each either produces exactly the
/// text the row engine's `Value` path would (`Double(text)` then `printf`, `Int64(text)`, ISO datetime truncation)
/// or answers `false`/`nil`, and the caller takes the row engine's path for that one value. They never guess.
public enum TextKernels {
    /// Appends `printf("%.{scale}f", Double(text)!)`: the exact binary value nearest to the decimal `text`, rounded to
    /// `scale` places, ties to even. Decided on the digit string, which is exact when the number has at most 15
    /// significant digits around the point (the binary value is then closer to the text than any rounding boundary
    /// except one the text sits on exactly; those are settled with one fused multiply-add). Returns false for
    /// anything else (exponents, signs other than `-`, long numbers), leaving `output` as it was.
    public static func appendFixed(_ text: UnsafeRawBufferPointer, scale: Int, to output: inout [UInt8]) -> Bool {
        guard scale >= 0, scale <= 17 else { return false }
        return appendThrough(&output, bound: text.count + scale + 3) { fixed(text, scale: scale, into: $0) }
    }

    /// ``appendFixed(_:scale:to:)`` into `output`, which has room for `text.count + scale + 3` bytes: the number of
    /// bytes written, or -1 (nothing meant) when the kernel cannot vouch for the value.
    public static func fixed(_ text: UnsafeRawBufferPointer, scale: Int, into output: UnsafeMutablePointer<UInt8>) -> Int {
        let count = text.count
        guard count > 0, count <= 40, scale >= 0, scale <= 17 else { return -1 }
        let short = shortFixed(text, scale: scale, into: output)
        if short >= 0 { return short }
        var index = 0
        let negative = text[0] == UInt8(ascii: "-")
        if negative { index = 1 }
        let integerStart = index
        while index < count, text[index] &- 48 < 10 { index += 1 }
        let integerEnd = index
        guard integerEnd > integerStart else { return -1 }
        var fractionStart = index, fractionEnd = index
        if index < count {
            guard text[index] == UInt8(ascii: "."), index + 1 < count else { return -1 }
            index += 1
            fractionStart = index
            while index < count, text[index] &- 48 < 10 { index += 1 }
            guard index == count else { return -1 }
            fractionEnd = index
        }
        var significantStart = integerStart
        while significantStart < integerEnd - 1, text[significantStart] == UInt8(ascii: "0") { significantStart += 1 }
        let integerDigits = text[significantStart] == UInt8(ascii: "0") ? 0 : integerEnd - significantStart
        let fractionDigits = fractionEnd - fractionStart
        guard integerDigits + max(fractionDigits, scale + 1) <= 15 else { return -1 }

        // The kept digits go straight to `output`: the integer part (at least "0"), the point, `scale` fraction
        // digits padded with zeros; rounding up then carries through them in place.
        var written = 0
        if negative {
            output[0] = UInt8(ascii: "-")
            written = 1
        }
        let first = written
        if integerDigits == 0 {
            output[written] = 48
            written += 1
        } else {
            for position in significantStart ..< integerEnd {
                output[written] = text[position]
                written += 1
            }
        }
        if scale > 0 {
            output[written] = UInt8(ascii: ".")
            written += 1
            for place in 0 ..< scale {
                output[written] = place < fractionDigits ? text[fractionStart + place] : 48
                written += 1
            }
        }
        guard fractionDigits > scale else { return written }
        let next = text[fractionStart + scale]
        var roundUp = next > UInt8(ascii: "5")
        if next == UInt8(ascii: "5") {
            var rest = false
            for position in fractionStart + scale + 1 ..< fractionEnd where text[position] != 48 {
                rest = true
                break
            }
            if rest {
                roundUp = true
            } else {
                // The text sits on a boundary: compare the binary value with it exactly.
                guard let value = Double(String(decoding: text, as: UTF8.self)) else { return -1 }
                var boundary = 0.0
                for position in first ..< written where output[position] != UInt8(ascii: ".") {
                    boundary = boundary * 10 + Double(output[position] - 48)
                }
                boundary = boundary * 10 + 5
                var power = 1.0
                for _ in 0 ... scale { power *= 10 }
                let difference = (-boundary).addingProduct(value.magnitude, power)  // one rounding: its sign is exact
                if difference > 0 {
                    roundUp = true
                } else if difference == 0 {
                    roundUp = (output[written - 1] - 48) & 1 == 1  // a tie: to even
                }
            }
        }
        if roundUp {
            var position = written - 1
            while position >= first {
                let digit = output[position]
                if digit == UInt8(ascii: ".") {
                    position -= 1
                } else if digit == UInt8(ascii: "9") {
                    output[position] = 48
                    position -= 1
                } else {
                    output[position] = digit + 1
                    break
                }
            }
            if position < first {
                (output + first + 1).update(from: output + first, count: written - first)
                output[first] = UInt8(ascii: "1")
                written += 1
            }
        }
        return written
    }

    /// ``fixed(_:scale:into:)`` for the common shape — `[-]digits.digits` without leading zeros, more fraction
    /// digits than `scale` (at least 1), at most 15 significant — in one pass: the kept part copied as it is, the
    /// rounding decided by the dropped digits by the same rules as the general path. Declines (-1) anything else: a
    /// dropped part of exactly one half (the general path compares the binary value), a carry past the first digit.
    @inline(__always)
    static func shortFixed(_ text: UnsafeRawBufferPointer, scale: Int, into output: UnsafeMutablePointer<UInt8>) -> Int {
        let count = text.count
        guard scale >= 1, count <= 24, let raw = text.baseAddress else { return -1 }
        let base = raw.assumingMemoryBound(to: UInt8.self)
        let first = base[0] == UInt8(ascii: "-") ? 1 : 0
        var index = first
        while index < count, base[index] &- 48 < 10 { index &+= 1 }
        let point = index
        guard point > first, point < count, base[point] == UInt8(ascii: "."),
              base[first] != 48 || point &- first == 1 else { return -1 }
        index = point &+ 1
        while index < count, base[index] &- 48 < 10 { index &+= 1 }
        let fractionDigits = count &- point &- 1
        let integerDigits = base[first] == 48 ? 0 : point &- first
        guard index == count, fractionDigits > scale, integerDigits &+ fractionDigits <= 15 else { return -1 }
        let kept = point &+ 1 &+ scale
        ByteScan.copy(from: base, to: output, count: kept)
        let next = base[kept]
        if next < UInt8(ascii: "5") { return kept }
        if next == UInt8(ascii: "5") {
            var rest = kept &+ 1
            while rest < count, base[rest] == 48 { rest &+= 1 }
            guard rest < count else { return -1 }
        }
        var position = kept &- 1
        while position >= first {
            let digit = output[position]
            if digit == UInt8(ascii: "9") {
                output[position] = 48
            } else if digit != UInt8(ascii: ".") {
                output[position] = digit &+ 1
                return kept
            }
            position &-= 1
        }
        return -1
    }

    /// Runs a pointer kernel on `bound` bytes of room at the end of `output`, keeping what it wrote; false when it
    /// declined (-1), leaving `output` as it was.
    @inline(__always)
    static func appendThrough(_ output: inout [UInt8], bound: Int,
                              _ kernel: (UnsafeMutablePointer<UInt8>) -> Int) -> Bool {
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: bound))
        let written = output.withUnsafeMutableBufferPointer { kernel($0.baseAddress! + start) }
        output.removeLast(written < 0 ? bound : bound - written)
        return written >= 0
    }

    /// `Int64(text)`: an optional sign and up to 18 ASCII digits; `nil` for anything else (which the caller reads the
    /// slow way, so longer numbers still work).
    @inline(__always)
    public static func integer(_ text: UnsafeRawBufferPointer) -> Int64? {
        let count = text.count
        guard count > 0, count <= 19 else { return nil }
        var index = 0
        var negative = false
        if text[0] == UInt8(ascii: "-") || text[0] == UInt8(ascii: "+") {
            negative = text[0] == UInt8(ascii: "-")
            index = 1
            guard count > 1 else { return nil }
        }
        var value: Int64 = 0
        while index < count {
            let digit = text[index] &- 48
            guard digit < 10 else { return nil }
            value = value * 10 + Int64(digit)
            index += 1
        }
        return negative ? -value : value
    }

    /// Appends the decimal digits of `value`.
    @inline(__always)
    public static func appendInteger(_ value: Int64, to output: inout [UInt8]) {
        _ = appendThrough(&output, bound: 20) { integerDigits(value, into: $0) }
    }

    /// The decimal digits of `value` (at most 20 bytes) into `output`; returns how many.
    @inline(__always)
    public static func integerDigits(_ value: Int64, into output: UnsafeMutablePointer<UInt8>) -> Int {
        var magnitude = value.magnitude
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)
        return withUnsafeMutableBytes(of: &scratch) { scratch in
            var position = scratch.count
            repeat {
                position -= 1
                scratch[position] = UInt8(48 + magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            var written = 0
            if value < 0 {
                output[0] = UInt8(ascii: "-")
                written = 1
            }
            let digits = scratch.count - position
            (output + written).update(from: scratch.baseAddress!.assumingMemoryBound(to: UInt8.self) + position,
                                      count: digits)
            return written + digits
        }
    }

    /// Truncates an ISO 8601 datetime written `YYYY-MM-DDTHH:MM:SS±HH:MM` to `unit`, as `TimeUnit.truncate` then
    /// `DateTime.description` would. `nil` for any other shape or for values the fast check cannot vouch for (days
    /// after the 28th, leap seconds, `-00:00`), which take the row engine's path.
    public static func appendTruncatedDateTime(_ text: UnsafeRawBufferPointer, unit: TimeUnit, to output: inout [UInt8]) -> Bool {
        appendThrough(&output, bound: 25) { truncatedDateTime(text, unit: unit, into: $0) }
    }

    /// ``appendTruncatedDateTime(_:unit:to:)`` into 25 bytes of `output`: 25, or -1 when the kernel declines.
    public static func truncatedDateTime(_ text: UnsafeRawBufferPointer, unit: TimeUnit,
                                         into output: UnsafeMutablePointer<UInt8>) -> Int {
        guard text.count == 25 else { return -1 }
        @inline(__always) func digits(_ at: Int, _ count: Int) -> Int? {
            var value = 0
            for index in at ..< at + count {
                let digit = text[index] &- 48
                guard digit < 10 else { return nil }
                value = value &* 10 &+ Int(digit)
            }
            return value
        }
        guard text[4] == UInt8(ascii: "-"), text[7] == UInt8(ascii: "-"), text[10] == UInt8(ascii: "T"),
              text[13] == UInt8(ascii: ":"), text[16] == UInt8(ascii: ":"), text[22] == UInt8(ascii: ":"),
              text[19] == UInt8(ascii: "+") || text[19] == UInt8(ascii: "-"),
              let year = digits(0, 4), year >= 1, let month = digits(5, 2), (1...12).contains(month),
              let day = digits(8, 2), (1...28).contains(day), let hour = digits(11, 2), hour < 24,
              let minute = digits(14, 2), minute < 60, let second = digits(17, 2), second < 60,
              let offsetHours = digits(20, 2), let offsetMinutes = digits(23, 2), offsetMinutes < 60,
              offsetHours * 60 + offsetMinutes <= 18 * 60,
              text[19] == UInt8(ascii: "+") || offsetHours + offsetMinutes > 0 else { return -1 }
        let keep: Int  // bytes of the text kept before the zeroed part
        switch unit {
        case .second: keep = 19
        case .minute: keep = 17
        case .hour: keep = 14
        case .day: keep = 11
        case .month: keep = 8
        case .year: keep = 5
        }
        let source = text.baseAddress!.assumingMemoryBound(to: UInt8.self)
        output.update(from: source, count: 25)
        // "0000-01-01T00:00:00" from `keep` on: the zeroed fields, the separators kept.
        for position in keep ..< 19 {
            switch position {
            case 4, 7, 10, 13, 16: break
            case 6, 9: output[position] = UInt8(ascii: "1")
            default: output[position] = 48
            }
        }
        return 25
    }
}
