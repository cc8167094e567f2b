/// RFC 4180 minimal quoting, shared by the CSV writer and the columnar engine: a field is quoted only when it holds
/// the delimiter, a quote, CR or LF, and quotes inside are doubled.
public enum CSVQuoting {
    @inline(__always)
    public static func append(_ bytes: UnsafeRawBufferPointer, delimiter: UInt8, to output: inout [UInt8]) {
        guard ByteScan.contains(delimiter, 0x22, 0x0A, 0x0D, in: bytes) else {
            output.append(contentsOf: bytes)
            return
        }
        output.append(0x22)
        for byte in bytes {
            if byte == 0x22 { output.append(0x22) }
            output.append(byte)
        }
        output.append(0x22)
    }
}
