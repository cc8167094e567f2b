public import SDataCore

/// A version being written, in the catalog's drafts folder: invisible until ``Publisher/publish(_:request:)``
/// renames it into `public/`.
public final class VersionDraft {
    public let dataset: String
    public let runId: String
    public let directory: String
    public let schema: Schema
    public private(set) var distributions: [DistributionRecord] = []
    private var writers: [(writer: any FormatWriter, file: String)] = []

    init(dataset: String, runId: String, directory: String, schema: Schema) {
        self.dataset = dataset
        self.runId = runId
        self.directory = directory
        self.schema = schema
    }

    /// Opens a CSV distribution in the draft.
    public func addCSV(dialect: CSVWriter.Dialect) throws(CatalogError) -> CSVWriter {
        let file = dataset + ".csv"
        let writer = try CSVWriter(path: directory + "/" + file, schema: schema, dialect: dialect)
        writers.append((writer, file))
        return writer
    }

    /// Opens a JSON distribution in the draft.
    public func addJSON() throws(CatalogError) -> JSONWriter {
        let file = dataset + ".json"
        let writer = try JSONWriter(path: directory + "/" + file, schema: schema)
        writers.append((writer, file))
        return writer
    }

    /// Opens a distribution in one of the other formats: `jsonl`, `geojson`, `parquet`, `xlsx`, or `csv-excel` (CSV with a
    /// UTF-8 byte-order mark and CRLF line ends, which Korean Excel opens without garbling Hangul).
    public func add(_ format: String, dialect: CSVWriter.Dialect) throws(CatalogError) -> any FormatWriter {
        let extensions = ["jsonl": "jsonl", "geojson": "geojson", "parquet": "parquet", "xlsx": "xlsx", "csv-excel": "excel.csv"]
        guard let suffix = extensions[format] else { throw CatalogError("unknown distribution format '\(format)'") }
        let file = dataset + "." + suffix
        let path = directory + "/" + file
        let writer: any FormatWriter
        switch format {
        case "jsonl": writer = try JSONLinesWriter(path: path, schema: schema)
        case "geojson": writer = try GeoJSONWriter(path: path, schema: schema)
        case "parquet": writer = try ParquetWriter(path: path, schema: schema)
        case "xlsx": writer = try XLSXWriter(path: path, schema: schema)
        default:
            var excel = dialect
            excel.byteOrderMark = true
            excel.lineTerminator = "\r\n"
            writer = try CSVWriter(path: path, schema: schema, dialect: excel, format: "csv-excel")
        }
        writers.append((writer, file))
        return writer
    }

    /// Finishes every writer: files complete and synced, checksums known.
    public func finishWriting() throws(CatalogError) {
        for (writer, file) in writers {
            let (bytes, sha256) = try writer.finish()
            distributions.append(DistributionRecord(format: writer.format, path: file, mediaType: writer.mediaType,
                                                    bytes: bytes, sha256: sha256))
        }
        writers.removeAll()
    }
}
