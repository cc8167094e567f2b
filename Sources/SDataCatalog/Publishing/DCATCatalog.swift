public import Foundation
import SDataCore

/// `public/catalog.jsonld`: the whole catalog in DCAT-AP 3, for harvesters (the EU data portal, CKAN's DCAT
/// harvester, Google Dataset Search).
///
/// Each dataset appears twice over: a version-independent `dcat:Dataset` (`…/datasets/ID/#dataset`) that links every
/// release with `dcat:hasVersion` and the newest with `dcat:hasCurrentVersion`, and one `dcat:Dataset` per published
/// version (`…/datasets/ID/N/#dataset`); both have the dataset's page as `dcat:landingPage`. Each version has
/// `dcat:version`, `dcat:previousVersion`, `dcat:isVersionOf` and its distributions
/// (download URL, media type, byte size, SHA-256 as `spdx:checksum`, licence). Withdrawn versions are left out: their
/// files are gone. Controlled vocabularies are the EU's (languages, file types, licences where one matches).
public enum DCATCatalog {
    public struct DatasetVersions {
        public var dataset: String
        public var versions: [VersionRecord]
        /// Each version's `datapackage.json`, parsed (title, description, keywords, licence).
        public var packages: [Int: [String: Any]]

        public init(dataset: String, versions: [VersionRecord], packages: [Int: [String: Any]]) {
            self.dataset = dataset
            self.versions = versions
            self.packages = packages
        }
    }

    static var context: [String: Any] { [
        "dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/", "foaf": "http://xmlns.com/foaf/0.1/",
        "xsd": "http://www.w3.org/2001/XMLSchema#", "spdx": "http://spdx.org/rdf/terms#",
        "vcard": "http://www.w3.org/2006/vcard/ns#", "skos": "http://www.w3.org/2004/02/skos/core#",
        "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    ] }

    public static func render(config: CatalogConfig, datasets: [DatasetVersions], now: Date = Date()) throws -> Data {
        let base = (config.baseURL ?? "http://localhost:8080/").hasSuffix("/") ? (config.baseURL ?? "http://localhost:8080/")
            : (config.baseURL ?? "") + "/"
        let language = languageIRI(config.language ?? "en")
        let languageTag = config.language ?? "en"
        func text(_ value: String) -> [String: Any] { ["@value": value, "@language": languageTag] }
        func dateTime(_ date: Date) -> [String: Any] { ["@value": Timestamp.string(date), "@type": "xsd:dateTime"] }
        func iri(_ value: String) -> [String: Any] { ["@id": value] }

        var graph: [[String: Any]] = []
        let publisher = base + "#publisher"
        var publisherNode: [String: Any] = ["@id": publisher, "@type": "foaf:Agent",
                                            "foaf:name": config.publisher?.name ?? config.title]
        if let url = config.publisher?.url { publisherNode["foaf:homepage"] = iri(url) }
        graph.append(publisherNode)
        graph.append(["@id": language, "@type": "dct:LinguisticSystem"])
        graph.append(["@id": base, "@type": "foaf:Document"])
        var contact: String?
        if let email = config.publisher?.email {
            contact = base + "#contact"
            graph.append(["@id": contact!, "@type": "vcard:Kind", "vcard:fn": config.publisher?.name ?? config.title,
                          "vcard:hasEmail": iri("mailto:" + email)])
        }
        var datasetIDs: [String] = []
        var licences: Set<String> = []
        var formats: Set<String> = []
        var mediaTypes: Set<String> = []
        var modified = Date(timeIntervalSince1970: 0)
        var themes: Set<String> = []

        for entry in datasets {
            let live = entry.versions.filter { $0.withdrawnAt == nil }
            guard let current = live.last else { continue }
            let page = base + "datasets/\(entry.dataset)/"
            let series = page + "#dataset"
            graph.append(["@id": page, "@type": "foaf:Document"])
            let package = entry.packages[current.number] ?? [:]
            let title = package["title"] as? String ?? current.title
            let description = (package["description"] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? title
            let keywords = package["keywords"] as? [String] ?? []
            var seriesNode: [String: Any] = [
                "@id": series, "@type": "dcat:Dataset", "dct:identifier": entry.dataset,
                "dct:title": text(title), "dct:description": text(description),
                "dct:publisher": iri(publisher), "dcat:landingPage": iri(page),
                "dcat:hasVersion": live.map { iri(page + "\($0.number)/#dataset") },
                "dcat:hasCurrentVersion": iri(page + "\(current.number)/#dataset"),
                "dct:modified": dateTime(current.createdAt),
            ]
            if !keywords.isEmpty { seriesNode["dcat:keyword"] = keywords.map(text) }
            if let theme = (package["sdata:theme"] as? String).flatMap(themeIRI) {
                seriesNode["dcat:theme"] = iri(theme)
                themes.insert(theme)
            }
            if let contact { seriesNode["dcat:contactPoint"] = iri(contact) }
            graph.append(seriesNode)
            datasetIDs.append(series)
            modified = max(modified, current.createdAt)

            for (index, version) in live.enumerated() {
                let node = page + "\(version.number)/#dataset"
                let versionPackage = entry.packages[version.number] ?? package
                let licence = licenceIRI(versionPackage)
                licences.insert(licence)
                var distributions: [String] = []
                for distribution in version.distributions {
                    let url = base + distribution.path
                    let id = url + "#distribution"
                    distributions.append(id)
                    let format = fileTypeIRI(distribution.format)
                    formats.insert(format)
                    let media = "http://www.iana.org/assignments/media-types/" + distribution.mediaType
                    mediaTypes.insert(media)
                    graph.append([
                        "@id": id, "@type": "dcat:Distribution",
                        "dct:title": text("\(distribution.format.uppercased()) of version \(version.number)"),
                        "dcat:accessURL": iri(url), "dcat:downloadURL": iri(url),
                        "dcat:mediaType": iri(media), "dct:format": iri(format),
                        "dcat:byteSize": ["@value": String(distribution.bytes), "@type": "xsd:nonNegativeInteger"],
                        "spdx:checksum": [
                            "@type": "spdx:Checksum",
                            "spdx:algorithm": iri("http://spdx.org/rdf/terms#checksumAlgorithm_sha256"),
                            "spdx:checksumValue": ["@value": distribution.sha256, "@type": "xsd:hexBinary"],
                        ],
                        "dct:license": iri(licence), "dct:issued": dateTime(version.createdAt),
                    ])
                }
                var versionNode: [String: Any] = [
                    "@id": node, "@type": "dcat:Dataset",
                    "dct:identifier": "\(entry.dataset)/\(version.number)",
                    "dct:title": text("\(versionPackage["title"] as? String ?? version.title) (version \(version.number))"),
                    "dct:description": text(versionPackage["description"] as? String ?? description),
                    "dcat:version": String(version.number), "dcat:isVersionOf": iri(series),
                    "dct:issued": dateTime(version.createdAt), "dct:publisher": iri(publisher),
                    "dcat:distribution": distributions.map(iri), "dcat:landingPage": iri(page),
                ]
                if index > 0 { versionNode["dcat:previousVersion"] = iri(page + "\(live[index - 1].number)/#dataset") }
                if !keywords.isEmpty { versionNode["dcat:keyword"] = keywords.map(text) }
                graph.append(versionNode)
                datasetIDs.append(node)
            }
        }
        for licence in licences { graph.append(["@id": licence, "@type": "dct:LicenseDocument"]) }
        for theme in themes {
            let code = String(theme.split(separator: "/").last ?? "")
            graph.append(["@id": theme, "@type": "skos:Concept",
                          "skos:prefLabel": ["@value": themeLabels[code] ?? code, "@language": "en"],
                          "skos:inScheme": iri("http://publications.europa.eu/resource/authority/data-theme")])
        }
        for format in formats { graph.append(["@id": format, "@type": "dct:MediaTypeOrExtent"]) }
        for media in mediaTypes { graph.append(["@id": media, "@type": "dct:MediaType"]) }
        graph.insert([
            "@id": base + "catalog", "@type": "dcat:Catalog",
            "dct:title": text(config.title), "dct:description": text(config.description ?? config.title),
            "dct:publisher": iri(publisher), "dct:language": iri(language), "foaf:homepage": iri(base),
            "dcat:dataset": datasetIDs.map(iri), "dct:modified": dateTime(datasets.isEmpty ? now : modified),
        ], at: 0)
        let document: [String: Any] = ["@context": context, "@graph": graph]
        return try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }

    /// The English labels of the EU data themes.
    static let themeLabels = [
        "HEAL": "Health", "ECON": "Economy and finance", "ENVI": "Environment", "TRAN": "Transport",
        "SOCI": "Population and society", "GOVE": "Government and public sector",
        "EDUC": "Education, culture and sport", "ENER": "Energy", "AGRI": "Agriculture, fisheries, forestry and food",
        "JUST": "Justice, legal system and public safety", "TECH": "Science and technology",
        "REGI": "Regions and cities", "INTR": "International issues",
    ]

    /// The EU data-theme IRI for a spec's `theme` (`health` → HEAL), or a given IRI as it is.
    static func themeIRI(_ theme: String) -> String? {
        if theme.hasPrefix("http") { return theme }
        let themes = ["health": "HEAL", "economy": "ECON", "environment": "ENVI", "transport": "TRAN",
                      "society": "SOCI", "population": "SOCI", "government": "GOVE", "education": "EDUC",
                      "energy": "ENER", "agriculture": "AGRI", "justice": "JUST", "science": "TECH",
                      "technology": "TECH", "regions": "REGI", "international": "INTR"]
        return themes[theme.lowercased()].map { "http://publications.europa.eu/resource/authority/data-theme/" + $0 }
    }

    /// The EU's language authority IRI for a BCP 47 tag (`ko` → KOR).
    static func languageIRI(_ tag: String) -> String {
        let codes = ["ko": "KOR", "en": "ENG", "zh": "ZHO", "ja": "JPN", "fr": "FRA", "de": "DEU", "es": "SPA"]
        let primary = String(tag.lowercased().prefix { $0 != "-" && $0 != "_" })
        return "http://publications.europa.eu/resource/authority/language/" + (codes[primary] ?? "MUL")
    }

    static func fileTypeIRI(_ format: String) -> String {
        let types = ["csv": "CSV", "json": "JSON", "jsonl": "JSON_LINES", "geojson": "GEOJSON", "xlsx": "XLSX",
                     "parquet": "PARQUET", "zip": "ZIP"]
        return "http://publications.europa.eu/resource/authority/file-type/" + (types[format.lowercased()] ?? "BIN")
    }

    /// The licence of a version: the EU authority's IRI for the common ones, else the licence's own URL.
    static func licenceIRI(_ package: [String: Any]) -> String {
        let licence = (package["licenses"] as? [[String: Any]])?.first
        let name = (licence?["name"] as? String ?? "").uppercased()
        let known = ["CC-BY-4.0": "CC_BY_4_0", "CC0-1.0": "CC0", "CC-BY-SA-4.0": "CC_BYSA_4_0", "ODC-BY-1.0": "ODC_BY",
                     "ODBL-1.0": "ODBL", "PDDL-1.0": "PDDL"]
        if let code = known[name] { return "http://publications.europa.eu/resource/authority/licence/" + code }
        if let path = licence?["path"] as? String, path.hasPrefix("http") { return path }
        return "http://publications.europa.eu/resource/authority/licence/" + (name.isEmpty ? "OP_DATPRO" : name)
    }
}
