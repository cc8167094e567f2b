import SDataCore
import SDataPluginAPI

/// The stage's value encoding: a tag byte, then a fixed or length-prefixed payload.
enum StageCodec {
    static func writeVarint(_ value: UInt64, to buffer: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            buffer.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        buffer.append(UInt8(value))
    }

    static func readVarint(from reader: ByteReader) throws -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard let byte = try reader.next() else { throw corrupt }
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
            if shift > 63 { throw corrupt }
        }
    }

    static let corrupt = SourceError("the stage file is damaged")

    private static func writeFixed(_ value: UInt64, to buffer: inout [UInt8]) {
        for shift in stride(from: 0, to: 64, by: 8) { buffer.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    private static func readFixed(from reader: ByteReader) throws -> UInt64 {
        guard let bytes = try reader.read(count: 8) else { throw corrupt }
        var value: UInt64 = 0
        for (index, byte) in bytes.enumerated() { value |= UInt64(byte) << UInt64(index * 8) }
        return value
    }

    static func write(_ value: Value, to buffer: inout [UInt8]) {
        switch value {
        case .null:
            buffer.append(0)
        case .string(let text):
            buffer.append(1)
            writeVarint(UInt64(text.utf8.count), to: &buffer)
            buffer.append(contentsOf: text.utf8)
        case .integer(let int):
            buffer.append(2)
            writeFixed(UInt64(bitPattern: int), to: &buffer)
        case .number(let double):
            buffer.append(3)
            writeFixed(double.bitPattern, to: &buffer)
        case .decimal(let double, let scale):
            buffer.append(4)
            writeFixed(double.bitPattern, to: &buffer)
            buffer.append(UInt8(clamping: scale))
        case .boolean(let bool):
            buffer.append(bool ? 6 : 5)
        case .date(let date):
            buffer.append(7)
            writeDate(date, to: &buffer)
        case .datetime(let dateTime):
            buffer.append(8)
            writeDate(dateTime.date, to: &buffer)
            buffer += [UInt8(dateTime.hour), UInt8(dateTime.minute), UInt8(dateTime.second)]
            writeVarint(UInt64(dateTime.nanosecond), to: &buffer)
            if let offset = dateTime.offsetSeconds {
                buffer.append(1)
                writeVarint(UInt64(offset + 18 * 3600), to: &buffer)
            } else {
                buffer.append(0)
            }
        }
    }

    private static func writeDate(_ date: LocalDate, to buffer: inout [UInt8]) {
        buffer += [UInt8(date.year >> 8), UInt8(date.year & 0xFF), UInt8(date.month), UInt8(date.day)]
    }

    private static func readBytes(_ count: Int, from reader: ByteReader) throws -> [UInt8] {
        guard let bytes = try reader.read(count: count) else { throw corrupt }
        return bytes
    }

    private static func readDate(from reader: ByteReader) throws -> LocalDate {
        let bytes = try readBytes(4, from: reader)
        guard let date = LocalDate(year: Int(bytes[0]) << 8 | Int(bytes[1]), month: Int(bytes[2]), day: Int(bytes[3]))
        else { throw corrupt }
        return date
    }

    static func read(from reader: ByteReader) throws -> Value {
        guard let tag = try reader.next() else { throw corrupt }
        switch tag {
        case 0: return .null
        case 1:
            let count = Int(try readVarint(from: reader))
            guard let text = try reader.readString(count: count) else { throw corrupt }
            return .string(text)
        case 2: return .integer(Int64(bitPattern: try readFixed(from: reader)))
        case 3: return .number(Double(bitPattern: try readFixed(from: reader)))
        case 4:
            let double = Double(bitPattern: try readFixed(from: reader))
            guard let scale = try reader.next() else { throw corrupt }
            return .decimal(double, scale: Int(scale))
        case 5: return .boolean(false)
        case 6: return .boolean(true)
        case 7: return .date(try readDate(from: reader))
        case 8:
            let date = try readDate(from: reader)
            let time = try readBytes(3, from: reader)
            let nanos = Int(try readVarint(from: reader))
            guard let flag = try reader.next() else { throw corrupt }
            let offset = flag == 1 ? Int(try readVarint(from: reader)) - 18 * 3600 : nil
            guard let value = DateTime(date: date, hour: Int(time[0]), minute: Int(time[1]), second: Int(time[2]),
                                       nanosecond: nanos, offsetSeconds: offset) else { throw corrupt }
            return .datetime(value)
        default:
            throw corrupt
        }
    }

    /// Moves past one value without decoding it.
    static func skip(from reader: ByteReader) throws {
        guard let tag = try reader.next() else { throw corrupt }
        let count: Int
        switch tag {
        case 0, 5, 6: return
        case 1: count = Int(try readVarint(from: reader))
        case 2, 3: count = 8
        case 4: count = 9
        case 7: count = 4
        case 8:
            guard try reader.skip(count: 7) else { throw corrupt }
            _ = try readVarint(from: reader)
            guard let flag = try reader.next() else { throw corrupt }
            if flag == 1 { _ = try readVarint(from: reader) }
            return
        default: throw corrupt
        }
        guard try reader.skip(count: count) else { throw corrupt }
    }

    /// Makes a value agree with its column's unified type: integers in a number column become numbers, anything in
    /// a string column becomes text.
    @inline(__always)
    static func conform(_ value: Value, to type: FieldType) -> Value {
        switch (value, type) {
        case (.null, _), (.string, .string): value
        case (.integer(let int), .number): .number(Double(int))
        case (_, .string): .string(value.text)
        default: value
        }
    }
}
