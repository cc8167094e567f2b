import Crypto
import SDataCore

/// One value of a store row in a form both stores share: what `sdata store migrate` carries and checksums.
public enum StoreCell: Sendable, Equatable {
    case null
    case integer(Int)
    case real(Double)
    case text(String)
    case blob([UInt8])

    /// A canonical, typed text form: equal values, equal bytes, whichever store they were read from.
    var canonical: String {
        switch self {
        case .null: "n"
        case .integer(let value): "i:\(value)"
        case .real(let value): "r:\(value)"
        case .text(let value): "s:\(value.utf8.count):" + value
        case .blob(let value): "b:" + Hex.string(value)
        }
    }
}

/// A table of the catalog store as the two implementations share it: columns, their kinds, a deterministic order.
public struct StoreTable: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case text, integer, real, blob
    }

    public let name: String
    public let columns: [(name: String, kind: Kind)]
    /// An `ORDER BY` list valid in both stores, unique per row: export, import and checksums follow it.
    public let exportOrder: String

    public static func == (lhs: StoreTable, rhs: StoreTable) -> Bool { lhs.name == rhs.name }

    /// Every table, parents before children (foreign keys hold while importing in this order).
    public static let all: [StoreTable] = [
        StoreTable(name: "runs", columns: [
            ("id", .text), ("pipeline", .text), ("started_at", .text), ("finished_at", .text), ("status", .text),
            ("rows_in", .integer), ("rows_out", .integer), ("rows_suppressed", .integer), ("version", .integer),
            ("error", .text), ("spec_hash", .text),
        ], exportOrder: "started_at, id"),
        StoreTable(name: "versions", columns: [
            ("dataset", .text), ("number", .integer), ("run_id", .text), ("created_at", .text), ("content_hash", .text),
            ("row_count", .integer), ("title", .text), ("schema_json", .text), ("lineage_json", .text),
            ("governance_json", .text), ("withdrawn_at", .text), ("withdrawn_reason", .text),
        ], exportOrder: "dataset, number"),
        StoreTable(name: "distributions", columns: [
            ("dataset", .text), ("number", .integer), ("format", .text), ("path", .text), ("media_type", .text),
            ("bytes", .integer), ("sha256", .text), ("position", .integer),
        ], exportOrder: "dataset, number, position, format"),
        StoreTable(name: "bookmarks", columns: [("pipeline", .text), ("value", .text), ("updated_at", .text)],
                   exportOrder: "pipeline"),
        StoreTable(name: "audit", columns: [
            ("sequence", .integer), ("at", .text), ("kind", .text), ("subject", .text), ("detail", .text),
            ("previous_hash", .text), ("hash", .text),
        ], exportOrder: "sequence"),
        StoreTable(name: "raw_extracts", columns: [
            ("run_id", .text), ("pipeline", .text), ("created_at", .text), ("destroyed_at", .text),
            ("destroyed_reason", .text),
        ], exportOrder: "created_at, run_id"),
        StoreTable(name: "raw_keys", columns: [("run_id", .text), ("key", .blob)], exportOrder: "run_id"),
        StoreTable(name: "holds", columns: [
            ("id", .integer), ("dataset", .text), ("run_id", .text), ("reason", .text), ("created_at", .text),
            ("released_at", .text),
        ], exportOrder: "id"),
        StoreTable(name: "privacy_ledger", columns: [
            ("id", .integer), ("dataset", .text), ("run_id", .text), ("epsilon", .real), ("at", .text),
        ], exportOrder: "id"),
        StoreTable(name: "leases", columns: [
            ("name", .text), ("holder", .text), ("acquired_at", .real), ("expires_at", .real),
        ], exportOrder: "name"),
        StoreTable(name: "run_queue", columns: [
            ("id", .integer), ("pipeline", .text), ("key", .text), ("enqueued_at", .text), ("state", .text),
            ("worker", .text), ("heartbeat_at", .real), ("attempts", .integer), ("run_id", .text), ("outcome", .text),
        ], exportOrder: "id"),
    ]

    /// `SELECT a, b, … FROM t ORDER BY …`.
    var selectSQL: String {
        "SELECT \(columns.map(\.name).joined(separator: ", ")) FROM \(name) ORDER BY \(exportOrder)"
    }

    /// SHA-256 over the rows' canonical form, in export order.
    public static func checksum(_ rows: [[StoreCell]]) -> String {
        var hasher = SHA256()
        for row in rows {
            hasher.update(data: Array(row.map(\.canonical).joined(separator: "\u{1F}").utf8))
            hasher.update(data: [0x0A])
        }
        return Hex.string(hasher.finalize())
    }
}
