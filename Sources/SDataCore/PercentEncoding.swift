/// RFC 3986 percent-encoding, strict: everything but the unreserved characters (`A–Z a–z 0–9 - . _ ~`) is encoded.
///
/// Strictness matters for API keys: Korea's data.go.kr issues keys containing `+`, `/` and `=`. Foundation's
/// `URLComponents` leaves `+` in a query as it is, and the server then reads it as a space (SOURCES.md B.2).
public enum PercentEncoding {
    private static let hex = Array("0123456789ABCDEF".utf8)

    public static func encode(_ text: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if isUnreserved(byte) {
                bytes.append(byte)
            } else {
                bytes.append(UInt8(ascii: "%"))
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0x0F)])
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Decodes `%XX` sequences; `nil` when a `%` is not followed by two hex digits or the result is not UTF-8.
    public static func decode(_ text: String) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard let high = iterator.next().flatMap(Hex.digit), let low = iterator.next().flatMap(Hex.digit) else {
                return nil
            }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// A form-encoded (`application/x-www-form-urlencoded`) component: `+` is a space, then `%XX` escapes; text that
    /// does not decode is returned as it is.
    public static func decodeFormComponent(_ text: some StringProtocol) -> String {
        let spaced = String(text).replacing("+", with: " ")
        return decode(spaced) ?? spaced
    }

    /// True when `text` already holds percent-escapes (`%2B`): a key copied in its "encoded" form.
    public static func isEncoded(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count >= 3 else { return false }
        for index in 0..<(bytes.count - 2) where bytes[index] == UInt8(ascii: "%") {
            if Hex.digit(bytes[index + 1]) != nil, Hex.digit(bytes[index + 2]) != nil { return true }
        }
        return false
    }

    @inline(__always)
    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
             UInt8(ascii: "~"):
            true
        default:
            false
        }
    }
}
