import Foundation
public import SDataCore
public import SDataGovernance

/// Apache Parquet, written by hand (no Swift Parquet library is available): uncompressed, one data page (v1) per
/// column chunk, PLAIN encoding with a dictionary for strings, min/max/null-count statistics, and row groups of
/// `rowGroupSize` records so that memory holds one row group at most.
///
/// Types: integer → INT64; number → DOUBLE; boolean → BOOLEAN; date → INT32 (DATE); string and datetime →
/// BYTE_ARRAY (STRING; datetimes keep their ISO 8601 text and UTC offset, exactly as in the CSV). Every column is
/// OPTIONAL (nulls are definition levels).
public final class ParquetWriter: FormatWriter {
    public let format = "parquet"
    public var mediaType: String { "application/vnd.apache.parquet" }
    private let output: FileOutput
    private let schema: Schema
    private let rowGroupSize: Int
    private var columns: [[Value]]
    private var offset = 0
    private var rowGroups: [RowGroupMeta] = []
    private var totalRows = 0

    struct ColumnMeta {
        var type: Int32
        var encodings: [Int32]
        var name: String
        var values: Int
        var size: Int
        var dataPageOffset: Int
        var dictionaryPageOffset: Int?
        var nullCount: Int
        var minimum: [UInt8]?
        var maximum: [UInt8]?
    }

    struct RowGroupMeta {
        var columns: [ColumnMeta]
        var rows: Int
        var bytes: Int
    }

    public init(path: String, schema: Schema, rowGroupSize: Int = 65_536) throws(CatalogError) {
        output = try FileOutput(path: path)
        self.schema = schema
        self.rowGroupSize = max(1, rowGroupSize)
        columns = Array(repeating: [], count: schema.count)
        try emit(Array("PAR1".utf8))
    }

    private func emit(_ bytes: [UInt8]) throws(CatalogError) {
        try output.write(bytes: bytes)
        offset += bytes.count
    }

    public func write(_ batch: GovernedBatch) throws(CatalogError) {
        for record in batch.records {
            for index in 0..<schema.count { columns[index].append(index < record.count ? record[index] : .null) }
            if columns[0].count >= rowGroupSize { try flushRowGroup() }
        }
    }

    public func finish() throws(CatalogError) -> (bytes: Int, sha256: String) {
        if let first = columns.first, !first.isEmpty { try flushRowGroup() }
        let footer = fileMetadata()
        try emit(footer)
        var length = UInt32(footer.count).littleEndian
        try emit(withUnsafeBytes(of: &length) { Array($0) })
        try emit(Array("PAR1".utf8))
        return try output.finish()
    }

    // MARK: - Row groups and pages

    enum Physical: Int32 { case boolean = 0, int32 = 1, int64 = 2, double = 5, byteArray = 6 }

    func physical(_ type: FieldType) -> Physical {
        switch type {
        case .integer: .int64
        case .number: .double
        case .boolean: .boolean
        case .date: .int32
        case .string, .datetime: .byteArray
        }
    }

    private func flushRowGroup() throws(CatalogError) {
        let rows = columns.first?.count ?? 0
        var metas: [ColumnMeta] = []
        let start = offset
        for (index, field) in schema.fields.enumerated() {
            metas.append(try writeColumn(columns[index], field: field))
            columns[index].removeAll(keepingCapacity: true)
        }
        rowGroups.append(RowGroupMeta(columns: metas, rows: rows, bytes: offset - start))
        totalRows += rows
    }

    private func writeColumn(_ values: [Value], field: Field) throws(CatalogError) -> ColumnMeta {
        let type = physical(field.type)
        let start = offset
        var levels: [UInt8] = []
        var present: [Value] = []
        levels.reserveCapacity(values.count)
        for value in values {
            if value.isNull { levels.append(0) } else { levels.append(1); present.append(value) }
        }
        let definition = RLE.encode(levels.map(UInt32.init), bitWidth: 1)
        var meta = ColumnMeta(type: type.rawValue, encodings: [0, 3], name: field.name, values: values.count, size: 0,
                              dataPageOffset: 0, nullCount: values.count - present.count)
        var body = withUnsafeBytes(of: UInt32(definition.count).littleEndian) { Array($0) } + definition
        if type == .byteArray {
            // Dictionary: each distinct text once (PLAIN), then the rows as RLE indices into it.
            var dictionary: [String: UInt32] = [:]
            var order: [String] = []
            var indices: [UInt32] = []
            indices.reserveCapacity(present.count)
            for value in present {
                let text = value.text
                if let known = dictionary[text] { indices.append(known); continue }
                dictionary[text] = UInt32(order.count)
                indices.append(UInt32(order.count))
                order.append(text)
            }
            var dictionaryBody: [UInt8] = []
            for text in order {
                dictionaryBody += withUnsafeBytes(of: UInt32(text.utf8.count).littleEndian) { Array($0) }
                dictionaryBody += Array(text.utf8)
            }
            meta.dictionaryPageOffset = offset
            try emit(Thrift.pageHeader(type: 2, size: dictionaryBody.count, dictionary: (order.count, 0)))
            try emit(dictionaryBody)
            let width = max(1, 64 - UInt64(max(0, order.count - 1)).leadingZeroBitCount)
            body += [UInt8(width)] + RLE.encode(indices, bitWidth: width)
            meta.encodings = [0, 3, 8]
            let sorted = order.map { Array($0.utf8) }
            meta.minimum = sorted.min { $0.lexicographicallyPrecedes($1) }
            meta.maximum = sorted.max { $0.lexicographicallyPrecedes($1) }
            meta.dataPageOffset = offset
            try emit(Thrift.pageHeader(type: 0, size: body.count, data: (values.count, 8)))
        } else {
            let (plain, minimum, maximum) = try ParquetWriter.plain(present, type: type, field: field.name)
            body += plain
            meta.minimum = minimum
            meta.maximum = maximum
            meta.dataPageOffset = offset
            try emit(Thrift.pageHeader(type: 0, size: body.count, data: (values.count, 0)))
        }
        try emit(body)
        meta.size = offset - start
        return meta
    }

    /// PLAIN-encoded non-null values and their min/max (statistics order: numeric).
    static func plain(_ values: [Value], type: Physical, field: String) throws(CatalogError)
        -> ([UInt8], [UInt8]?, [UInt8]?) {
        var bytes: [UInt8] = []
        switch type {
        case .boolean:
            var current: UInt8 = 0
            for (index, value) in values.enumerated() {
                guard case .boolean(let flag) = value else { throw mismatch(field, "boolean") }
                if flag { current |= 1 << UInt8(index % 8) }
                if index % 8 == 7 { bytes.append(current); current = 0 }
            }
            if values.count % 8 != 0 { bytes.append(current) }
            return (bytes, nil, nil)
        case .int64:
            var numbers: [Int64] = []
            for value in values {
                switch value {
                case .integer(let number): numbers.append(number)
                case .number(let double) where double.rounded() == double && abs(double) < 9e18: numbers.append(Int64(double))
                default: throw mismatch(field, "integer")
                }
            }
            for number in numbers { bytes += withUnsafeBytes(of: number.littleEndian) { Array($0) } }
            return (bytes, numbers.min().map { withUnsafeBytes(of: $0.littleEndian) { Array($0) } },
                    numbers.max().map { withUnsafeBytes(of: $0.littleEndian) { Array($0) } })
        case .double:
            var numbers: [Double] = []
            for value in values {
                switch value {
                case .number(let double): numbers.append(double)
                // A decimal keeps its source double and prints it rounded: write what prints, never the
                // unrounded value (generalize: { decimals: N } exists to hide those digits).
                case .decimal: numbers.append(Double(value.text) ?? .nan)
                case .integer(let number): numbers.append(Double(number))
                default: throw mismatch(field, "number")
                }
            }
            for number in numbers { bytes += withUnsafeBytes(of: number.bitPattern.littleEndian) { Array($0) } }
            let finite = numbers.filter { !$0.isNaN }
            return (bytes, finite.min().map { withUnsafeBytes(of: $0.bitPattern.littleEndian) { Array($0) } },
                    finite.max().map { withUnsafeBytes(of: $0.bitPattern.littleEndian) { Array($0) } })
        case .int32:
            var days: [Int32] = []
            for value in values {
                guard case .date(let date) = value else { throw mismatch(field, "date") }
                days.append(Int32(date.daysSinceEpoch))
            }
            for day in days { bytes += withUnsafeBytes(of: day.littleEndian) { Array($0) } }
            return (bytes, days.min().map { withUnsafeBytes(of: $0.littleEndian) { Array($0) } },
                    days.max().map { withUnsafeBytes(of: $0.littleEndian) { Array($0) } })
        case .byteArray:
            return ([], nil, nil)
        }
    }

    static func mismatch(_ field: String, _ type: String) -> CatalogError {
        CatalogError("parquet: field '\(field)' is declared \(type) but holds a value of another type")
    }

    // MARK: - Footer

    private func fileMetadata() -> [UInt8] {
        var thrift = Thrift()
        thrift.beginStruct()
        thrift.field(1, .i32(1))
        thrift.listHeader(2, elementType: 12, count: schema.count + 1)
        thrift.beginStruct()
        thrift.field(4, .binary(Array("schema".utf8)))
        thrift.field(5, .i32(Int32(schema.count)))
        thrift.endStruct()
        for field in schema.fields {
            let type = physical(field.type)
            thrift.beginStruct()
            thrift.field(1, .i32(type.rawValue))
            thrift.field(3, .i32(1))
            thrift.field(4, .binary(Array(field.name.utf8)))
            switch field.type {
            case .string, .datetime:
                thrift.field(6, .i32(0))  // UTF8
                thrift.structField(10) { $0.structField(1) { _ in } }  // LogicalType STRING
            case .date:
                thrift.field(6, .i32(6))  // DATE
                thrift.structField(10) { $0.structField(6) { _ in } }  // LogicalType DATE
            default:
                break
            }
            thrift.endStruct()
        }
        thrift.field(3, .i64(Int64(totalRows)))
        thrift.listHeader(4, elementType: 12, count: rowGroups.count)
        for group in rowGroups {
            thrift.beginStruct()
            thrift.listHeader(1, elementType: 12, count: group.columns.count)
            for column in group.columns {
                thrift.beginStruct()
                thrift.field(2, .i64(Int64(column.dictionaryPageOffset ?? column.dataPageOffset)))
                thrift.structField(3) { meta in
                    meta.field(1, .i32(column.type))
                    meta.listHeader(2, elementType: 5, count: column.encodings.count)
                    for encoding in column.encodings { meta.raw(Thrift.zigzag(Int64(encoding))) }
                    meta.listHeader(3, elementType: 8, count: 1)
                    meta.raw(Thrift.varint(UInt64(column.name.utf8.count)) + Array(column.name.utf8))
                    meta.field(4, .i32(0))
                    meta.field(5, .i64(Int64(column.values)))
                    meta.field(6, .i64(Int64(column.size)))
                    meta.field(7, .i64(Int64(column.size)))
                    meta.field(9, .i64(Int64(column.dataPageOffset)))
                    if let dictionary = column.dictionaryPageOffset { meta.field(11, .i64(Int64(dictionary))) }
                    meta.structField(12) { statistics in
                        statistics.field(3, .i64(Int64(column.nullCount)))
                        if let maximum = column.maximum { statistics.field(5, .binary(maximum)) }
                        if let minimum = column.minimum { statistics.field(6, .binary(minimum)) }
                    }
                }
                thrift.endStruct()
            }
            thrift.field(2, .i64(Int64(group.bytes)))
            thrift.field(3, .i64(Int64(group.rows)))
            thrift.endStruct()
        }
        thrift.field(6, .binary(Array("sdata".utf8)))
        // Column orders tell readers the min/max statistics use each type's natural order (needed for strings).
        thrift.listHeader(7, elementType: 12, count: schema.count)
        for _ in schema.fields {
            thrift.beginStruct()
            thrift.structField(1) { _ in }
            thrift.endStruct()
        }
        thrift.endStruct()
        return thrift.bytes
    }
}

/// The RLE / bit-packing hybrid, written as RLE runs only (valid, and compact for repeated values).
enum RLE {
    static func encode(_ values: [UInt32], bitWidth: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        let width = (bitWidth + 7) / 8
        var index = 0
        while index < values.count {
            let value = values[index]
            var run = 1
            while index + run < values.count, values[index + run] == value { run += 1 }
            bytes += Thrift.varint(UInt64(run) << 1)
            for shift in 0..<width { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt32(shift)))) }
            index += run
        }
        return bytes
    }
}

/// Thrift's compact protocol, the little of it Parquet's footer and page headers need.
struct Thrift {
    enum Value {
        case i32(Int32)
        case i64(Int64)
        case binary([UInt8])
    }

    private(set) var bytes: [UInt8] = []
    private var lastField: [Int16] = []

    mutating func beginStruct() { lastField.append(0) }

    mutating func endStruct() {
        bytes.append(0)
        lastField.removeLast()
    }

    mutating func raw(_ data: [UInt8]) { bytes += data }

    private mutating func header(_ id: Int16, type: UInt8) {
        let delta = id - (lastField.last ?? 0)
        if delta > 0, delta <= 15 {
            bytes.append(UInt8(delta) << 4 | type)
        } else {
            bytes.append(type)
            bytes += Thrift.zigzag(Int64(id))
        }
        lastField[lastField.count - 1] = id
    }

    mutating func field(_ id: Int16, _ value: Value) {
        switch value {
        case .i32(let number):
            header(id, type: 5)
            bytes += Thrift.zigzag(Int64(number))
        case .i64(let number):
            header(id, type: 6)
            bytes += Thrift.zigzag(number)
        case .binary(let data):
            header(id, type: 8)
            bytes += Thrift.varint(UInt64(data.count)) + data
        }
    }

    mutating func structField(_ id: Int16, _ body: (inout Thrift) -> Void) {
        header(id, type: 12)
        beginStruct()
        body(&self)
        endStruct()
    }

    mutating func listHeader(_ id: Int16, elementType: UInt8, count: Int) {
        header(id, type: 9)
        if count < 15 {
            bytes.append(UInt8(count) << 4 | elementType)
        } else {
            bytes.append(0xF0 | elementType)
            bytes += Thrift.varint(UInt64(count))
        }
    }

    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var bytes: [UInt8] = []
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
        return bytes
    }

    static func zigzag(_ value: Int64) -> [UInt8] {
        varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    /// A page header: `data` = (values, encoding) for a data page, `dictionary` = (entries, encoding).
    static func pageHeader(type: Int32, size: Int, data: (Int, Int32)? = nil, dictionary: (Int, Int32)? = nil) -> [UInt8] {
        var thrift = Thrift()
        thrift.beginStruct()
        thrift.field(1, .i32(type))
        thrift.field(2, .i32(Int32(size)))
        thrift.field(3, .i32(Int32(size)))
        if let (values, encoding) = data {
            thrift.structField(5) { page in
                page.field(1, .i32(Int32(values)))
                page.field(2, .i32(encoding))
                page.field(3, .i32(3))
                page.field(4, .i32(3))
            }
        }
        if let (entries, encoding) = dictionary {
            thrift.structField(7) { page in
                page.field(1, .i32(Int32(entries)))
                page.field(2, .i32(encoding))
            }
        }
        thrift.endStruct()
        return thrift.bytes
    }
}
