import Testing
import SDataCore
@testable import SDataGovernance

/// The lanes write each output field with whole-word copies and checks (`writeCSVField`); the bytes must be exactly
/// what the row engine's writer (`CSVQuoting`) produces, for every length around the word sizes and every byte that
/// forces quoting at every position, and the slack it may overwrite must stay inside the room it asks for.
struct CSVFieldWriterTests {
    @Test(arguments: [UInt8(0x2C), 0x09, 0x3B, 0x00])
    func fieldsAreWrittenAsTheRowEngineQuotesThem(delimiter: UInt8) {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(delimiter)
        func next(_ bound: Int) -> Int {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Int(state % UInt64(bound))
        }
        let alphabet: [UInt8] = [0x61, 0x30, 0x2C, 0x09, 0x3B, 0x22, 0x0A, 0x0D, 0x00, 0xEA, 0xB0, 0x80, 0x20]
        for _ in 0 ..< 20_000 {
            let bytes = (0 ..< next(40)).map { _ in alphabet[next(alphabet.count)] }
            var expected: [UInt8] = []
            bytes.withUnsafeBytes { CSVQuoting.append($0, delimiter: delimiter, to: &expected) }
            let room = csvFieldRoom(bytes.count)
            // Guard bytes after the room: a write past it would change them.
            var output = [UInt8](repeating: 0xA5, count: room + 16)
            let written = bytes.withUnsafeBytes { field in
                output.withUnsafeMutableBufferPointer { writeCSVField(field, delimiter: delimiter, at: $0.baseAddress!) }
            }
            #expect(Array(output[..<written]) == expected, "\(bytes) delimiter \(delimiter)")
            #expect(output[room...].allSatisfy { $0 == 0xA5 }, "wrote past its room: \(bytes)")
        }
    }
}
