import Foundation
public import SDataCore
public import SDataGovernance
import ZIPFoundation

/// JSON Lines: one JSON object per record per line, for streaming consumers (`jq`, Spark, DuckDB).
public final class JSONLinesWriter: FormatWriter {
    public let format = "jsonl"
    public var mediaType: String { "application/jsonl" }
    private let output: FileOutput
    private let keys: [String]

    public init(path: String, schema: Schema) throws(CatalogError) {
        output = try FileOutput(path: path)
        keys = schema.names.map { JSONText.quote($0) + ":" }
    }

    public func write(_ batch: GovernedBatch) throws(CatalogError) {
        var text = ""
        for record in batch.records {
            text += "{"
            for (index, value) in record.enumerated() {
                if index > 0 { text += "," }
                text += keys[index] + JSONWriter.literal(value)
            }
            text += "}\n"
        }
        try output.write(text)
    }

    public func finish() throws(CatalogError) -> (bytes: Int, sha256: String) { try output.finish() }
}

/// GeoJSON (RFC 7946): a `FeatureCollection` with one feature per record and the other fields as properties. The
/// geometry is a `Point` from the latitude and longitude fields, or else the value of a geometry field (`geometry`,
/// `geom`, `geojson` or `wkt`) holding a GeoJSON geometry object or a WKT `POINT (x y)`. Records without one get a
/// null geometry, as the RFC allows.
public final class GeoJSONWriter: FormatWriter {
    public let format = "geojson"
    public var mediaType: String { "application/geo+json" }
    private let output: FileOutput
    private enum Source { case coordinates(latitude: Int, longitude: Int), geometry(Int) }
    private let source: Source
    private let keys: [(Int, String)]
    private var first = true

    /// The positions of the latitude and longitude fields (`lat`/`latitude`, `lon`/`lng`/`longitude`), or `nil`.
    public static func coordinates(in schema: Schema) -> (latitude: Int, longitude: Int)? {
        let names = schema.names.map { $0.lowercased() }
        guard let lat = names.firstIndex(where: { ["lat", "latitude", "y_coord"].contains($0) }),
              let lon = names.firstIndex(where: { ["lon", "lng", "longitude", "long", "x_coord"].contains($0) }) else {
            return nil
        }
        return (lat, lon)
    }

    /// The position of a geometry field, or `nil`.
    public static func geometry(in schema: Schema) -> Int? {
        schema.names.firstIndex { ["geometry", "geom", "geojson", "wkt"].contains($0.lowercased()) }
    }

    public init(path: String, schema: Schema) throws(CatalogError) {
        let used: Set<Int>
        if let (lat, lon) = GeoJSONWriter.coordinates(in: schema) {
            source = .coordinates(latitude: lat, longitude: lon)
            used = [lat, lon]
        } else if let index = GeoJSONWriter.geometry(in: schema) {
            source = .geometry(index)
            used = [index]
        } else {
            throw CatalogError("the geojson format needs latitude and longitude fields (lat/latitude and "
                               + "lon/lng/longitude) or a geometry field (geometry, geom, geojson or wkt) in the "
                               + "published schema")
        }
        output = try FileOutput(path: path)
        keys = schema.names.enumerated().filter { !used.contains($0.offset) }
            .map { ($0.offset, JSONText.quote($0.element) + ":") }
        try output.write("{\"type\":\"FeatureCollection\",\"features\":[")
    }

    public func write(_ batch: GovernedBatch) throws(CatalogError) {
        var text = ""
        for record in batch.records {
            text += first ? "\n" : ",\n"
            first = false
            text += "{\"type\":\"Feature\",\"geometry\":" + geometry(record) + ",\"properties\":{"
            for (offset, (index, key)) in keys.enumerated() {
                if offset > 0 { text += "," }
                text += key + JSONWriter.literal(record[index])
            }
            text += "}}"
        }
        try output.write(text)
    }

    private func geometry(_ record: Record) -> String {
        switch source {
        case .coordinates(let latitude, let longitude):
            guard let lat = GeoJSONWriter.number(record[latitude]), let lon = GeoJSONWriter.number(record[longitude]) else {
                return "null"
            }
            return "{\"type\":\"Point\",\"coordinates\":[\(lon),\(lat)]}"
        case .geometry(let index):
            guard case .string(let text) = record[index] else { return "null" }
            return GeoJSONWriter.geometry(from: text) ?? "null"
        }
    }

    /// A GeoJSON geometry object as given (checked to parse as one), or a WKT point converted; else `nil`.
    static func geometry(from text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("{") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any],
                  let type = object["type"] as? String,
                  ["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
                   "GeometryCollection"].contains(type),
                  let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return nil }
            return String(decoding: data, as: UTF8.self)
        }
        let upper = trimmed.uppercased()
        guard upper.hasPrefix("POINT"), let open = trimmed.firstIndex(of: "("), let close = trimmed.lastIndex(of: ")"),
              open < close else { return nil }
        let numbers = trimmed[trimmed.index(after: open)..<close].split(separator: " ").compactMap { Double($0) }
        guard numbers.count == 2, numbers.allSatisfy(\.isFinite) else { return nil }
        return "{\"type\":\"Point\",\"coordinates\":[\(Value.number(numbers[0]).text),\(Value.number(numbers[1]).text)]}"
    }

    static func number(_ value: Value) -> String? {
        switch value {
        case .number(let double): double.isFinite ? value.text : nil
        case .decimal, .integer: value.text
        case .string(let text): Double(text) != nil ? text : nil
        default: nil
        }
    }

    public func finish() throws(CatalogError) -> (bytes: Int, sha256: String) {
        try output.write(first ? "]}\n" : "\n]}\n")
        return try output.finish()
    }
}

/// Excel (Office Open XML): one worksheet with a header row, inline strings and real numbers; the sheet XML is
/// streamed to a scratch file and zipped with ZIPFoundation at the end, so memory does not grow with the rows.
/// A sheet holds at most 1,048,575 records (Excel's row limit, less the header): more fails the run with a message.
public final class XLSXWriter: FormatWriter {
    public let format = "xlsx"
    public var mediaType: String { "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" }
    private let path: String
    private let sheetPath: String
    private let sheet: FileOutput
    private let columns: [String]
    private var rows = 1
    static let maxRows = 1_048_576

    public init(path: String, schema: Schema) throws(CatalogError) {
        self.path = path
        sheetPath = path + ".sheet.xml"
        sheet = try FileOutput(path: sheetPath)
        columns = (0..<schema.count).map(XLSXWriter.column)
        var header = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
        header += "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData><row r=\"1\">"
        for (index, name) in schema.names.enumerated() {
            header += "<c r=\"\(columns[index])1\" t=\"inlineStr\"><is><t>\(XLSXWriter.escape(name))</t></is></c>"
        }
        try sheet.write(header + "</row>")
    }

    /// `A`, `B`, … `Z`, `AA`, …
    static func column(_ index: Int) -> String {
        var index = index + 1
        var name = ""
        while index > 0 {
            let remainder = (index - 1) % 26
            name = String(UnicodeScalar(UInt8(65 + remainder))) + name
            index = (index - 1) / 26
        }
        return name
    }

    static func escape(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            // XML 1.0 forbids most control characters; drop them rather than write an unreadable file.
            case "\t", "\n", "\r": result.unicodeScalars.append(scalar)
            default: if scalar.value >= 0x20 { result.unicodeScalars.append(scalar) }
            }
        }
        return result
    }

    public func write(_ batch: GovernedBatch) throws(CatalogError) {
        guard rows + batch.records.count <= XLSXWriter.maxRows else {
            throw CatalogError("the xlsx format holds at most \(XLSXWriter.maxRows - 1) records (Excel's row limit); "
                               + "publish this dataset as csv, jsonl or json")
        }
        var text = ""
        for record in batch.records {
            rows += 1
            text += "<row r=\"\(rows)\">"
            for (index, value) in record.enumerated() {
                let reference = columns[index] + String(rows)
                switch value {
                case .null: text += "<c r=\"\(reference)\"/>"  // present and empty: readers see every column
                case .integer, .decimal: text += "<c r=\"\(reference)\"><v>\(value.text)</v></c>"
                case .number(let double) where double.isFinite: text += "<c r=\"\(reference)\"><v>\(value.text)</v></c>"
                case .boolean(let flag): text += "<c r=\"\(reference)\" t=\"b\"><v>\(flag ? 1 : 0)</v></c>"
                default:
                    text += "<c r=\"\(reference)\" t=\"inlineStr\"><is><t xml:space=\"preserve\">"
                    text += XLSXWriter.escape(value.text) + "</t></is></c>"
                }
            }
            text += "</row>"
        }
        try sheet.write(text)
    }

    public func finish() throws(CatalogError) -> (bytes: Int, sha256: String) {
        try sheet.write("</sheetData></worksheet>\n")
        _ = try sheet.finish()
        defer { try? FileManager.default.removeItem(atPath: sheetPath) }
        let parts: [(String, String)] = [
            ("[Content_Types].xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>
                """),
            ("_rels/.rels", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>
                """),
            ("xl/workbook.xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="data" sheetId="1" r:id="rId1"/></sheets></workbook>
                """),
            ("xl/_rels/workbook.xml.rels", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>
                """),
        ]
        // Fixed entry dates: the same rows give the same bytes, so an unchanged dataset publishes no new version.
        let fixed = Date(timeIntervalSince1970: 946_684_800)
        do {
            let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
            for (name, text) in parts {
                let data = Data(text.utf8)
                try archive.addEntry(with: name, type: .file, uncompressedSize: Int64(data.count), modificationDate: fixed,
                                     compressionMethod: .deflate) { position, size in
                    data.subdata(in: Int(position)..<Int(position) + size)
                }
            }
            guard let handle = FileHandle(forReadingAtPath: sheetPath) else { throw CatalogError("cannot read the sheet") }
            defer { try? handle.close() }
            let size = try CatalogDump.size(ofFile: sheetPath)
            try archive.addEntry(with: "xl/worksheets/sheet1.xml", type: .file, uncompressedSize: Int64(size),
                                 modificationDate: fixed, compressionMethod: .deflate) { position, count in
                try handle.seek(toOffset: UInt64(position))
                return try handle.read(upToCount: count) ?? Data()
            }
        } catch {
            throw CatalogError("cannot write the xlsx file '\(path)': \(error)")
        }
        do {
            return (try CatalogDump.size(ofFile: path), try CatalogDump.sha256(ofFile: path))
        } catch {
            throw CatalogError("cannot read back '\(path)'")
        }
    }
}
