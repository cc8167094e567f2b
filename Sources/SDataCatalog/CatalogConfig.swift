import Foundation
import Yams

/// `catalog.yaml`: what the catalog says about itself and its publisher.
public struct CatalogConfig: Sendable, Codable, Equatable {
    public struct Publisher: Sendable, Codable, Equatable {
        public var name: String
        public var email: String?
        public var url: String?
    }

    public var title: String
    public var description: String?
    public var publisher: Publisher?
    /// The public URL `public/` is served at, for absolute links in metadata.
    public var baseURL: String?
    /// The license of datasets that do not name one.
    public var license: String?
    public var language: String?
    public var alerts: Alerts?
    public var dumps: Dumps?
    /// The catalog store: a `postgres://` URL or `sqlite:PATH`; the embedded `state.sqlite` when absent.
    /// `SDATA_STORE` in the environment takes precedence.
    public var store: String?
    public var artifacts: Artifacts?

    /// Where the catalog's files live, and how writers on several machines coordinate.
    public struct Artifacts: Sendable, Codable, Equatable {
        /// `local` (default: one machine) or `shared` (a file system several machines mount; publication is also
        /// serialized by leases in the store).
        public var kind: String?
        /// The folder holding `public/`, `raw/`, `logs/` and drafts (default: the catalog root).
        public var path: String?
    }

    /// Whole-catalog dumps in `public/dumps/`.
    public struct Dumps: Sendable, Codable, Equatable {
        /// How many dumps to keep (default 7).
        public var keep: Int?
        /// Write a dump after scheduled runs that published something (default true).
        public var afterRuns: Bool?

        enum CodingKeys: String, CodingKey {
            case keep
            case afterRuns = "after_runs"
        }
    }

    /// Where alerts go.
    public struct Alerts: Sendable, Codable, Equatable {
        /// An HTTP(S) URL that receives a JSON POST for each alert.
        public var webhookURL: String?

        enum CodingKeys: String, CodingKey {
            case webhookURL = "webhook_url"
        }
    }

    enum CodingKeys: String, CodingKey {
        case title, description, publisher, license, language, alerts, dumps, store, artifacts
        case baseURL = "base_url"
    }

    public init(title: String = "S-Data catalog") {
        self.title = title
    }

    /// Reads `path`; a missing file gives the defaults.
    public static func load(path: String) throws -> CatalogConfig {
        guard let data = FileManager.default.contents(atPath: path) else { return CatalogConfig() }
        do {
            return try YAMLDecoder().decode(CatalogConfig.self, from: data)
        } catch {
            throw CatalogError("\(path): invalid catalog configuration: \(error)")
        }
    }
}
