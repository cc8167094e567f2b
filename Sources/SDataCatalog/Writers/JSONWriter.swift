public import SDataCore
public import SDataGovernance

/// A JSON array of objects, one per record, one record per line; types follow the schema (numbers as numbers,
/// dates and datetimes as ISO 8601 strings, null as null).
public final class JSONWriter: FormatWriter {
    public let format = "json"
    public var mediaType: String { "application/json" }
    private let output: FileOutput
    private let keys: [String]
    private var first = true

    public init(path: String, schema: Schema) throws(CatalogError) {
        output = try FileOutput(path: path)
        keys = schema.names.map { JSONText.quote($0) + ":" }
        try output.write("[")
    }

    public func write(_ batch: GovernedBatch) throws(CatalogError) {
        var text = ""
        for record in batch.records {
            text += first ? "\n{" : ",\n{"
            first = false
            for (index, value) in record.enumerated() {
                if index > 0 { text += "," }
                text += keys[index]
                text += JSONWriter.literal(value)
            }
            text += "}"
        }
        try output.write(text)
    }

    static func literal(_ value: Value) -> String {
        switch value {
        case .null: "null"
        case .integer, .decimal, .boolean: value.text
        case .number(let double): double.isFinite ? value.text : "null"
        case .string(let text): JSONText.quote(text)
        case .date, .datetime: JSONText.quote(value.text)
        }
    }

    public func finish() throws(CatalogError) -> (bytes: Int, sha256: String) {
        try output.write(first ? "]\n" : "\n]\n")
        return try output.finish()
    }
}
