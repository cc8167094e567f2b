import Foundation
import SDataCore

/// Frictionless Data Package (v1) descriptors for published versions.
enum DataPackage {
    /// Known licenses: SPDX id → (title, URL).
    static let licenses: [String: (String, String)] = [
        "CC-BY-4.0": ("Creative Commons Attribution 4.0", "https://creativecommons.org/licenses/by/4.0/"),
        "CC0-1.0": ("Creative Commons Zero v1.0 Universal", "https://creativecommons.org/publicdomain/zero/1.0/"),
        "CC-BY-SA-4.0": ("Creative Commons Attribution Share Alike 4.0",
                         "https://creativecommons.org/licenses/by-sa/4.0/"),
        "ODC-BY-1.0": ("Open Data Commons Attribution License v1.0", "https://opendatacommons.org/licenses/by/1-0/"),
        "PDDL-1.0": ("Open Data Commons Public Domain Dedication & License 1.0",
                     "https://opendatacommons.org/licenses/pddl/1-0/"),
        "KOGL-Type1": ("Korea Open Government License Type 1", "https://www.kogl.or.kr/info/licenseType1.do"),
    ]

    static func tableSchema(_ schema: Schema, primaryKey: [String]) -> [String: Any] {
        var result: [String: Any] = [
            "fields": schema.fields.map { field -> [String: Any] in
                var entry: [String: Any] = ["name": field.name, "type": field.type.rawValue]
                if let description = field.description { entry["description"] = description }
                return entry
            },
            "missingValues": [""],
        ]
        if !primaryKey.isEmpty { result["primaryKey"] = primaryKey }
        return result
    }

    static func descriptor(request: PublicationRequest, version: Int, createdAt: Date, schema: Schema,
                           distributions: [DistributionRecord], dialect: CSVWriter.Dialect?,
                           config: CatalogConfig) throws -> Data {
        let table = tableSchema(schema, primaryKey: request.primaryKey)
        // Parquet is binary: Frictionless' Parquet reader cannot check a byte count, so Parquet files are described
        // beside the resources (`sdata:binary_distributions`), with the same size, media type and checksum.
        let binary = distributions.filter { $0.format == "parquet" }
        let resources: [[String: Any]] = distributions.filter { $0.format != "parquet" }.map { distribution in
            let file = distribution.path.split(separator: "/").last.map(String.init) ?? distribution.path
            var resource: [String: Any] = [
                "name": distribution.format == "csv" ? request.dataset : "\(request.dataset)-\(distribution.format)",
                "path": file,
                "format": distribution.format,
                "mediatype": distribution.mediaType,
                "encoding": "utf-8",
                "bytes": distribution.bytes,
                "hash": "sha256:" + distribution.sha256,
            ]
            // The CSV is the tabular resource, checked against the schema; other formats are the same rows in another
            // encoding, described with size and checksum (Frictionless' JSON table reader cannot verify checksums).
            if distribution.format == "csv" {
                resource["profile"] = "tabular-data-resource"
                resource["schema"] = table
                if let dialect {
                    resource["dialect"] = [
                        "delimiter": String(UnicodeScalar(dialect.delimiter)),
                        "lineTerminator": dialect.lineTerminator,
                        "header": dialect.header,
                        "quoteChar": "\"",
                        "doubleQuote": true,
                    ] as [String: Any]
                }
            } else {
                resource["profile"] = "data-resource"
            }
            return resource
        }
        var package: [String: Any] = [
            "profile": distributions.allSatisfy { $0.format == "csv" } ? "tabular-data-package" : "data-package",
            "sdata:binary_distributions": binary.map { distribution -> [String: Any] in
                ["path": distribution.path.split(separator: "/").last.map(String.init) ?? distribution.path,
                 "format": distribution.format, "mediatype": distribution.mediaType, "bytes": distribution.bytes,
                 "hash": "sha256:" + distribution.sha256]
            },
            "name": request.dataset,
            "title": request.title,
            "version": "\(version).0.0",
            "created": Timestamp.string(createdAt),
            "resources": resources,
            "keywords": request.keywords,
        ]
        if !request.description.isEmpty { package["description"] = request.description }
        if let theme = request.theme { package["sdata:theme"] = theme }
        if let license = request.license ?? config.license {
            var entry: [String: Any] = ["name": license]
            if let (title, url) = licenses[license] {
                entry["title"] = title
                entry["path"] = url
            }
            package["licenses"] = [entry]
        }
        if let publisher = config.publisher {
            var contributor: [String: Any] = ["title": publisher.name, "role": "publisher"]
            if let email = publisher.email { contributor["email"] = email }
            if let url = publisher.url { contributor["path"] = url }
            package["contributors"] = [contributor]
        }
        let lineage = try JSONSerialization.jsonObject(with: JSONEncoder.catalog.encode(request.lineage))
        let governance = try JSONSerialization.jsonObject(with: request.governanceReport)
        package["sdata"] = ["version": version, "lineage": lineage, "governance": governance]
        return try JSONSerialization.data(withJSONObject: package, options: [.prettyPrinted, .sortedKeys,
                                                                              .withoutEscapingSlashes])
    }
}

extension JSONEncoder {
    /// Stable, readable JSON for everything the catalog publishes.
    static var catalog: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.string(date))
        }
        return encoder
    }
}
