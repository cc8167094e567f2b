#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Fixed-point formatting with C `printf` semantics: the exact binary value is rounded, ties to even.
public enum DecimalFormat {
    /// Formats `value` with exactly `scale` digits after the decimal point.
    public static func fixed(_ value: Double, scale: Int) -> String {
        let clamped = max(0, min(scale, 17))
        var buffer = [CChar](repeating: 0, count: 352)
        let count = buffer.withUnsafeMutableBufferPointer { pointer in
            withVaList([Int32(clamped), value]) { arguments in
                vsnprintf(pointer.baseAddress, pointer.count, "%.*f", arguments)
            }
        }
        let length = max(0, min(Int(count), buffer.count - 1))
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
