import Foundation
import Testing
import SDataCore
import SDataPluginAPI
import SDataGovernance
import Crypto

/// Property tests of the columnar engine's byte kernels against the functions they stand in for: each kernel either
/// gives exactly the row path's answer or declines (and the row path runs).
struct ColumnarKernelTests {
    struct Random: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
        mutating func digits(_ count: Int) -> String { (0..<count).map { _ in String(below(10)) }.joined() }
    }

    static func fixed(_ text: String, _ scale: Int) -> String? {
        var output: [UInt8] = []
        let handled = Array(text.utf8).withUnsafeBytes { TextKernels.appendFixed($0, scale: scale, to: &output) }
        return handled ? String(decoding: output, as: UTF8.self) : nil
    }

    /// `%.Nf` of the nearest double, as printf computes it: ties (exact binary halves) to even, near-ties by the
    /// binary value, carries through nines, signs of values that round to zero.
    @Test func fixedDecimalsMatchPrintfOnTheBinaryValue() {
        var random = Random(state: 0x5EED)
        var checked = 0, declined = 0
        let traps = ["37.562500", "126.937500", "126.9995", "126.9996", "37.4125", "37.5", "0.0005", "-0.0005",
                     "9.9995", "99.99950", "0", "-0", "000.5", "1.0005", "2.675", "1.005", "0.125", "-2.5",
                     "123456789012.5", "1e3", "+1.5", ".5", "5.", "1.2.3", "", "-", "12a", "0.000000000000001"]
        var inputs = traps
        for _ in 0..<20_000 {
            let integer = random.below(4) == 0 ? "0" : String(random.below(100_000))
            let fraction = random.digits(1 + random.below(8))
            let sign = random.below(5) == 0 ? "-" : ""
            inputs.append(sign + integer + "." + (random.below(6) == 0 ? String(fraction.prefix(3)) + "5" : fraction))
        }
        for text in inputs {
            for scale in [0, 1, 2, 3, 6] {
                guard let fast = Self.fixed(text, scale) else {
                    declined += 1
                    continue
                }
                let value = Double(text)!
                #expect(fast == String(format: "%.*f", scale, value), "\(text) at \(scale)")
                #expect(fast == DecimalFormat.fixed(value, scale: scale), "\(text) at \(scale)")
                checked += 1
            }
        }
        #expect(checked > 90_000)
        #expect(declined > 0)  // exponents, signs and malformed text go to the row path
    }

    @Test func integersMatchInt64() {
        var random = Random(state: 77)
        var inputs = ["0", "-0", "+0", "007", "+", "-", "", "12.0", "9223372036854775807", "123456789012345678",
                      "1234567890123456789", " 1", "1 ", "٣"]
        for _ in 0..<5000 { inputs.append((random.below(3) == 0 ? "-" : "") + random.digits(1 + random.below(18))) }
        for text in inputs {
            let fast = Array(text.utf8).withUnsafeBytes { TextKernels.integer($0) }
            if let fast { #expect(fast == Int64(text), "\(text)") }
        }
    }

    @Test func truncatedDatetimesMatchTheRowPath() {
        var random = Random(state: 4242)
        var inputs = ["2020-11-03T14:25:07+09:00", "2020-02-29T23:59:59+09:00", "2021-02-29T10:00:00+09:00",
                      "0000-01-01T00:00:00+00:00", "2020-13-01T00:00:00+09:00", "2020-01-01T24:00:00+09:00",
                      "2020-01-01T10:00:60+09:00", "2020-01-01T10:00:00-00:00", "2020-01-01T10:00:00+18:00",
                      "2020-01-01T10:00:00+18:01", "2020-01-01T10:00:00Z", "2020-01-01T10:00:00.5+09:00"]
        for _ in 0..<3000 {
            inputs.append(String(format: "%04d-%02d-%02dT%02d:%02d:%02d%@%02d:%02d", 1 + random.below(9999),
                                 random.below(14), random.below(33), random.below(25), random.below(61),
                                 random.below(61), random.below(2) == 0 ? "+" : "-", random.below(20), random.below(61)))
        }
        for text in inputs {
            for unit in TimeUnit.allCases {
                var output: [UInt8] = []
                let handled = Array(text.utf8).withUnsafeBytes {
                    TextKernels.appendTruncatedDateTime($0, unit: unit, to: &output)
                }
                guard handled else { continue }
                let row = DatePattern.parseISODateTime(text).map { unit.truncate($0).description }
                #expect(String(decoding: output, as: UTF8.self) == row, "\(text) to \(unit)")
            }
        }
    }

    @Test func utf8ValidationMatchesTheStandardLibrary() {
        var random = Random(state: 9)
        var samples: [[UInt8]] = [[], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE0, 0x9F, 0xBF],
                                  Array("강남구 ０１０ 😀".utf8), [0xF0, 0x9F, 0x98], [0x80]]
        for _ in 0..<20_000 {
            var bytes = Array("ab강😀".utf8).shuffled(using: &random)
            if random.below(3) == 0 { bytes[random.below(bytes.count)] = UInt8(random.below(256)) }
            samples.append(Array(bytes.prefix(1 + random.below(bytes.count))))
        }
        // Longer runs, so that the word-wide paths meet sequences at every offset and at the very end.
        for _ in 0..<20_000 {
            var bytes: [UInt8] = []
            for _ in 0..<random.below(12) { bytes += Array(["a", "ab", "강", "😀", "é", "abcdefgh", "송파구"][random.below(7)].utf8) }
            if !bytes.isEmpty, random.below(2) == 0 { bytes[random.below(bytes.count)] = UInt8(random.below(256)) }
            if !bytes.isEmpty, random.below(4) == 0 { bytes.removeLast(random.below(min(3, bytes.count)) + 1) }
            samples.append(bytes)
        }
        // Records as long as real ones (the vector path's sixteen-byte blocks): one damaged byte anywhere, or cut.
        for _ in 0..<5_000 {
            var bytes: [UInt8] = []
            for _ in 0..<(20 + random.below(30)) {
                bytes += Array(["a,", "010-1234-5678", "강남구", "😀", "é", "\n", "２０２０", "\u{10FFFF}"][random.below(8)].utf8)
            }
            switch random.below(4) {
            case 0: bytes[random.below(bytes.count)] = UInt8(random.below(256))
            case 1: bytes.removeLast(1 + random.below(3))
            case 2: bytes.insert([0x80, 0xC0, 0xE0, 0xED, 0xF0, 0xF4, 0xF5, 0xFF][random.below(8)], at: random.below(bytes.count))
            default: break
            }
            samples.append(bytes)
        }
        for bytes in samples {
            let expected = String(validating: bytes, as: UTF8.self) != nil
            let fast = bytes.withUnsafeBufferPointer { ByteScan.isValidUTF8($0) }
            let scalar = bytes.withUnsafeBufferPointer { ByteScan.isValidUTF8Scalar($0) }
            #expect(fast == expected, "\(bytes)")
            #expect(scalar == expected, "\(bytes)")
            // Every vector form this processor runs (AVX2's 32-byte blocks, SSSE3's 16), not only the widest.
            for width in [32, 16] where width <= ByteScan.vectorWidth {
                let vector = bytes.withUnsafeBufferPointer { ByteScan.isValidUTF8($0, width: width) }
                #expect(vector == expected, "width \(width): \(bytes)")
            }
        }
    }

    /// The parser's 64-byte masks: every start and end around the block size, and tails shorter than a block (read
    /// through a copy, so that nothing past the end is touched).
    @Test func matchMasksMarkExactlyTheBytesSought() {
        var random = Random(state: 77)
        for _ in 0..<3000 {
            let bytes = (0..<random.below(150)).map { _ in [0x2C, 0x0A, 0x22, 0x61, 0x0D, 0x00, 0xFF, 0xEA][random.below(8)] as UInt8 }
            let start = bytes.isEmpty ? 0 : random.below(bytes.count)
            let end = start + random.below(bytes.count - start + 1)
            bytes.withUnsafeBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                let mask = ByteScan.matchMask(of: 0x2C, 0x0A, 0x22, in: base, at: start, end: end)
                var naive: UInt64 = 0
                for index in start ..< min(start + 64, end) where [0x2C, 0x0A, 0x22].contains(bytes[index]) {
                    naive |= 1 << UInt64(index - start)
                }
                #expect(mask == naive, "\(bytes) \(start) \(end)")
                // NUL as the delimiter: the zero padding of a tail must not count.
                let zeros = ByteScan.matchMask(of: 0x00, 0x0A, 0x22, in: base, at: start, end: end)
                var naiveZeros: UInt64 = 0
                for index in start ..< min(start + 64, end) where [0x00, 0x0A, 0x22].contains(bytes[index]) {
                    naiveZeros |= 1 << UInt64(index - start)
                }
                #expect(zeros == naiveZeros)
            }
        }
    }

    @Test func byteScansMatchNaiveLoops() {
        var random = Random(state: 123)
        for _ in 0..<2000 {
            let bytes = (0..<random.below(40)).map { _ in [0x2C, 0x0A, 0x22, 0x61, 0x0D, 0x00, 0xFF][random.below(7)] as UInt8 }
            let from = bytes.isEmpty ? 0 : random.below(bytes.count)
            bytes.withUnsafeBufferPointer { buffer in
                // The first match from `from`: the lowest bit of the 64-byte mask (these buffers are shorter).
                let mask = buffer.isEmpty ? 0 : ByteScan.matchMask(of: 0x2C, 0x0A, 0x22, in: buffer.baseAddress!, at: from,
                                                                   end: buffer.count)
                let first = mask == 0 ? bytes.count : from + mask.trailingZeroBitCount
                let naive = bytes[from...].firstIndex { $0 == 0x2C || $0 == 0x0A || $0 == 0x22 } ?? bytes.count
                if !buffer.isEmpty { #expect(first == naive) }
                #expect(ByteScan.count(0x0A, in: buffer) == bytes.filter { $0 == 0x0A }.count)
                #expect(ByteScan.contains(0x2C, 0x22, 0x0A, 0x0D, in: UnsafeRawBufferPointer(buffer))
                        == bytes.contains { [0x2C, 0x22, 0x0A, 0x0D].contains($0) })
            }
        }
    }

    /// Counting runs sixteen bytes at a time into byte-wide counters summed every 255 blocks: long buffers, all
    /// matches (a counter at its limit), none, and every length and offset around the block and word sizes.
    @Test func byteCountsMatchNaiveLoopsOnLongBuffers() {
        var random = Random(state: 20261206)
        var cases: [[UInt8]] = [Array(repeating: 0x0A, count: 16 * 255 * 3 + 23), Array(repeating: 0x61, count: 9000),
                                Array(repeating: 0x0A, count: 16 * 255), Array(repeating: 0x0A, count: 16 * 255 + 16)]
        for _ in 0 ..< 300 {
            let density = 1 + random.below(20)
            cases.append((0 ..< random.below(9000)).map { _ in random.below(density) == 0 ? 0x0A : 0x61 })
        }
        for bytes in cases {
            let offset = bytes.isEmpty ? 0 : random.below(min(bytes.count, 40))
            let slice = Array(bytes[offset...])
            slice.withUnsafeBufferPointer { buffer in
                #expect(ByteScan.count(0x0A, in: buffer) == slice.filter { $0 == 0x0A }.count, "\(slice.count) bytes")
            }
        }
    }

    /// The pseudonym MAC with precomputed key blocks is HMAC-SHA256, for keys shorter, as long as and longer than a
    /// block and messages of every length around the padding boundaries.
    @Test func precomputedHMACIsHMACSHA256() {
        var random = Random(state: 4242)
        for keyLength in [0, 1, 8, 32, 55, 63, 64, 65, 100, 200] {
            let key = (0..<keyLength).map { _ in UInt8(random.below(256)) }
            let mac = PrecomputedHMAC(key: key)
            for messageLength in [0, 1, 13, 55, 56, 63, 64, 65, 119, 120, 300] {
                let message = (0..<messageLength).map { _ in UInt8(random.below(256)) }
                let ours = message.withUnsafeBytes { mac.authenticate($0) { Array($0) } }
                let reference = Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
                #expect(ours == reference, "key \(keyLength) bytes, message \(messageLength) bytes")
            }
        }
    }

    @Test func byteTableAgreesWithADictionary() {
        var random = Random(state: 31337)
        var table = ByteTable(capacity: 4)
        var reference: [[UInt8]: Int] = [:]
        for _ in 0..<30_000 {
            let key = (0..<random.below(40)).map { _ in UInt8(random.below(4)) }
            let (id, inserted) = key.withUnsafeBytes { table.insert($0) }
            if let known = reference[key] {
                #expect(!inserted && id == known)
            } else {
                #expect(inserted && id == reference.count)
                reference[key] = id
            }
            #expect(key.withUnsafeBytes { table.find($0) } == reference[key])
            table.withKey(id) { #expect(Array($0) == key) }
        }
        #expect(table.count == reference.count)
        // Keys longer than a slot's length field: told apart by their stored length.
        let long = [0xFFFE, 0xFFFF, 0x10000, 0x10004].map { [UInt8](repeating: 7, count: $0) }
        let ids = long.map { key in key.withUnsafeBytes { table.insert($0).id } }
        #expect(Set(ids).count == long.count)
        for (key, id) in zip(long, ids) { #expect(key.withUnsafeBytes { table.find($0) } == id) }
    }

    /// The chunk parser reads every record as the row reader does, chunk boundaries wherever they fall.
    @Test func chunkParserMatchesTheRowReader() throws {
        var random = Random(state: 2024)
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for round in 0..<60 {
            var text = ""
            let pieces = ["a", "", "\"x,y\"", "\"q\"\"q\"", "강남", "\"line\nbreak\"", "12", "\"\"", " sp ", "\r", "a\rb",
                          "long value of more than sixty-four bytes so that one field spans two of the parser masks"]
            let end = round % 3 == 0 ? "\r\n" : "\n"
            for _ in 0..<(1 + random.below(30)) {
                if random.below(12) == 0 { text += end }
                text += (0..<3).map { _ in pieces[random.below(pieces.count)] }.joined(separator: ",") + end
            }
            let path = directory + "/\(round).csv"
            try TestSupport.write(text, to: path)
            var reader = try CSVReader(path: path)
            var expected: [[Value]] = []
            while let record = try reader.next() {
                if record.count == 1, record[0].isNull { continue }
                expected.append(record)
            }
            // Cut where the engine would, at a random size, and parse each piece.
            let bytes = Array(text.utf8)
            var parsed: [[Value]] = []
            var start = 0
            while start < bytes.count {
                let size = 1 + random.below(40)
                var stop = min(bytes.count, start + size)
                if stop < bytes.count {
                    guard let cut = bytes[start..<stop].withUnsafeBufferPointer({ DelimitedChunk.cut($0, quote: 0x22) }) else {
                        // No boundary yet: take the rest.
                        stop = bytes.count
                        parsed += Self.records(Array(bytes[start..<stop]), isLast: true)
                        break
                    }
                    stop = start + cut
                }
                parsed += Self.records(Array(bytes[start..<stop]), isLast: stop == bytes.count)
                start = stop
            }
            #expect(parsed == expected, "round \(round): \(text.debugDescription)")
        }
    }

    /// Records one field wider or narrower than the header, after well-formed ones of every kind: the parser stops
    /// at the first, naming its line (0-based in the chunk) and field count; blank lines in between are skipped.
    @Test func chunkParserReportsTheFirstRecordOfAnotherWidth() {
        var random = Random(state: 31)
        let pieces = ["a", "", "\"x,y\"", "강남", "\"line\nbreak\"", "12", "\r"]
        for _ in 0..<400 {
            let width = 1 + random.below(5)
            var text = "", line = 0
            let good = random.below(20)
            for _ in 0..<good {
                if width > 1 && random.below(8) == 0 {
                    text += "\n"
                    line += 1
                }
                let fields = (0..<width).map { _ in pieces[random.below(pieces.count)] }
                text += fields.joined(separator: ",") + (random.below(2) == 0 ? "\n" : "\r\n")
                line += 1 + fields.filter { $0.contains("\n") }.count
            }
            let other = max(1, width + (random.below(2) == 0 ? -1 : 1))
            let widthChanges = other != width && !(other == 1 && width > 1)
            text += (0..<other).map { _ in "v" }.joined(separator: ",") + "\n" + "x\n"
            var chunk = DelimitedChunk(bytes: Array(text.utf8), width: width)
            let outcome = chunk.parse(delimiter: 0x2C, quote: 0x22, isLast: true)
            if widthChanges {
                #expect(outcome == .wrongWidth(line: line, fields: other), "\(text.debugDescription)")
            }
        }
    }

    static func records(_ bytes: [UInt8], isLast: Bool) -> [[Value]] {
        var chunk = DelimitedChunk(bytes: bytes, width: 3)
        guard chunk.parse(delimiter: 0x2C, quote: 0x22, isLast: isLast) == .parsed else { return [[.string("error")]] }
        return (0..<chunk.rows).map { row in
            (0..<3).map { column in
                chunk.isNull(row, column) ? .null : .string(chunk.withField(row, column) { String(decoding: $0, as: UTF8.self) })
            }
        }
    }
}

/// The short-copy and partial-load helpers read and write exactly the bytes asked for (the lanes use them on values
/// that may end at the end of a mapped window).
struct ByteScanCopyTests {
    @Test func copyAndPartialLoadTouchOnlyTheirBytes() {
        var generator = SystemRandomNumberGenerator()
        for count in 0 ... 40 {
            for _ in 0 ..< 20 {
                let source = (0 ..< count).map { _ in UInt8.random(in: 1 ... 255, using: &generator) }
                var target = [UInt8](repeating: 0, count: count + 16)
                source.withUnsafeBytes { from in
                    target.withUnsafeMutableBytes { to in
                        ByteScan.copy(from: from.baseAddress ?? UnsafeRawPointer(bitPattern: 8)!,
                                      to: to.baseAddress! + 8, count: count)
                    }
                }
                #expect(Array(target[8 ..< 8 + count]) == source)
                #expect(target[..<8].allSatisfy { $0 == 0 } && target[(8 + count)...].allSatisfy { $0 == 0 })
                if count <= 8 {
                    var expected: UInt64 = 0
                    for (index, byte) in source.enumerated() { expected |= UInt64(byte) << (8 * UInt64(index)) }
                    let loaded = source.withUnsafeBytes {
                        ByteScan.loadPartial($0.baseAddress ?? UnsafeRawPointer(bitPattern: 8)!, count)
                    }
                    #expect(loaded == expected)
                }
            }
        }
    }
}
