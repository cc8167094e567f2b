import Foundation

/// Which catalog store to open: `postgres://…` (or `postgresql://…`), `sqlite:PATH`, or the embedded default.
public struct StoreLocation: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case sqlite(path: String)
        case postgres(url: String)
    }

    public let kind: Kind

    /// Parses `text`; `nil` or empty gives the catalog's embedded `state.sqlite`.
    public init(_ text: String?, layout: CatalogLayout) throws {
        guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty else {
            kind = .sqlite(path: layout.stateFile)
            return
        }
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            kind = .postgres(url: text)
        } else if text.hasPrefix("sqlite:") {
            var path = String(text.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path.removeFirst(2) }  // sqlite://path, as some write it
            guard !path.isEmpty else { throw CatalogError("'sqlite:' needs a path: sqlite:/var/lib/sdata/state.sqlite") }
            kind = .sqlite(path: path)
        } else {
            throw CatalogError("unknown catalog store '\(text.prefix(40))': use postgres://user@host:port/database or sqlite:PATH")
        }
    }

    public init(kind: Kind) {
        self.kind = kind
    }

    /// The location with any password masked.
    public var description: String {
        switch kind {
        case .sqlite(let path): "sqlite:" + path
        case .postgres(let url):
            (try? PostgresLocation(url, environment: [:]).display) ?? "postgres://"
        }
    }

    public func open() throws -> any CatalogStore {
        switch kind {
        case .sqlite(let path): try SQLiteCatalogStore(path: path)
        case .postgres(let url): try PostgresCatalogStore(url: url)
        }
    }
}
