import Foundation
import Testing
import Crypto
@testable import SDataGovernance

/// The pseudonym memo's short-key table and hex writer against a dictionary and `String(format:)`: the engine's
/// pseudonyms depend on both.
struct PseudonymMemoTests {
    /// Random keys of 0–16 bytes (many sharing prefixes and differing only in length or trailing zero bytes): a key
    /// found is found with the value it was stored with, through growth and eviction; a key just stored is found; the
    /// table never holds more than its bound.
    @Test(arguments: [1 << 18, 64])
    func shortKeysFindTheirValuesThroughGrowthAndEviction(maximumSlots: Int) {
        var generator = SystemRandomNumberGenerator()
        var memo = ShortKeyMemo(capacity: 1, maximumSlots: maximumSlots)
        var reference: [[UInt8]: UInt64] = [:]
        for _ in 0 ..< 20_000 {
            let length = Int.random(in: 0 ... ShortKeyMemo.maximumKey, using: &generator)
            var key = (0 ..< length).map { _ in UInt8.random(in: 0 ... 3, using: &generator) }
            if Bool.random(using: &generator) && length > 0 { key[length - 1] = 0 }
            let found = key.withUnsafeBytes { memo.find($0) }
            if let found { #expect(found == reference[key], "\(key)") }
            if found == nil {
                let value = reference[key] ?? UInt64.random(in: 0 ... .max, using: &generator)
                key.withUnsafeBytes { memo.insert($0, value: value) }
                reference[key] = value
                #expect(key.withUnsafeBytes { memo.find($0) } == value)
            }
            #expect(memo.count <= maximumSlots)
        }
        for (key, value) in reference {
            if let found = key.withUnsafeBytes({ memo.find($0) }) { #expect(found == value) }
        }
        memo.removeAll()
        #expect(memo.count == 0)
        for key in reference.keys.prefix(100) { #expect(key.withUnsafeBytes { memo.find($0) } == nil) }
    }

    @Test func hexMatchesFormatting() {
        var generator = SystemRandomNumberGenerator()
        for round in 0 ..< 5_000 {
            let word = round < 3 ? [0, UInt64.max, 0x0123_4567_89AB_CDEF][round] : UInt64.random(in: 0 ... .max, using: &generator)
            let bytes = withUnsafeBytes(of: word.littleEndian) { Array($0) }
            var target = [UInt8](repeating: 0, count: 16)
            target.withUnsafeMutableBufferPointer { LaneState.writeHex(word, to: $0.baseAddress!) }
            let expected = bytes.map { String(format: "%02x", $0) }.joined()
            #expect(String(decoding: target, as: UTF8.self) == expected)
        }
    }

    /// The memo's pseudonym is the first hex digits of HMAC-SHA256, as the row engine computes it.
    @Test func precomputedMACPrefixIsHMAC() {
        let key = Array("bench-key".utf8)
        let mac = PrecomputedHMAC(key: key)
        for phone in ["010-7543-2499", "", "0", "01012345678901234"] {
            let expected = HMAC<SHA256>.authenticationCode(for: Array(phone.utf8), using: SymmetricKey(data: key))
            var prefix: UInt64 = 0
            Array(phone.utf8).withUnsafeBytes { input in
                mac.authenticate(input) { prefix = $0.loadUnaligned(as: UInt64.self) }
            }
            var target = [UInt8](repeating: 0, count: 16)
            target.withUnsafeMutableBufferPointer { LaneState.writeHex(prefix, to: $0.baseAddress!) }
            #expect(String(decoding: target, as: UTF8.self) == Data(expected).prefix(8).map { String(format: "%02x", $0) }.joined())
        }
    }
}
