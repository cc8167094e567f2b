import Foundation
import SDataCore
import SDataCatalog
import SDataPluginAPI

/// The read-only part of CKAN's Action API (`/api/3/action/NAME`), answered from the catalog with CKAN's envelopes,
/// so that CKAN clients and harvesters (ckanapi, the EU portal's harvester) read an S-Data catalog as they read CKAN.
///
/// Every answer is `{help, success, result}` or `{help, success: false, error: {__type, message}}` with CKAN's
/// statuses: 404 for an unknown dataset or resource, 409 for invalid parameters, 400 for an unknown action.
struct CKANActions: Sendable {
    let catalog: Catalog
    let baseURL: String

    struct Failure: Error {
        let status: Int
        let type: String
        let message: String

        static func notFound(_ what: String) -> Failure { Failure(status: 404, type: "Not Found Error", message: "Not found: \(what)") }
        static func invalid(_ message: String) -> Failure { Failure(status: 409, type: "Validation Error", message: message) }
    }

    static let actions = ["package_list", "package_show", "package_search", "current_package_list_with_resources",
                          "organization_list", "resource_show", "datastore_search", "status_show"]

    /// Answers `action` with `parameters` (query string or JSON body, merged); returns the status and the JSON body.
    func answer(_ action: String, _ parameters: [String: JSONValue]) async -> (Int, String) {
        let help = baseURL + "/api/3/action/help_show?name=" + action
        do {
            let result = try await perform(action, parameters)
            return (200, "{\"help\":\(JSONText.quote(help)),\"success\":true,\"result\":\(result.jsonText)}")
        } catch let failure as Failure {
            let error = "{\"__type\":\(JSONText.quote(failure.type)),\"message\":\(JSONText.quote(failure.message))}"
            return (failure.status, "{\"help\":\(JSONText.quote(help)),\"success\":false,\"error\":\(error)}")
        } catch {
            let message = "{\"__type\":\"Internal Error\",\"message\":\"the catalog could not be read\"}"
            return (500, "{\"help\":\(JSONText.quote(help)),\"success\":false,\"error\":\(message)}")
        }
    }

    private func perform(_ action: String, _ parameters: [String: JSONValue]) async throws -> JSONValue {
        switch action {
        case "package_list":
            return .array(try await packages().map { .string($0.id) })
        case "package_show":
            let id = try parameters.string("id", required: true)!
            guard let package = try await packages().first(where: { $0.id == id }) else { throw Failure.notFound("dataset '\(id)'") }
            return package.json(baseURL: baseURL, organization: organization)
        case "package_search":
            let rows = try parameters.integer("rows", default: 10, range: 0...1000)
            let start = try parameters.integer("start", default: 0, range: 0...Int.max)
            let query = (try parameters.string("q") ?? "").lowercased()
            let matching = try await packages().filter { query.isEmpty || query == "*:*" || $0.matches(query) }
            let page = matching.dropFirst(start).prefix(rows)
            return .object([
                ("count", .number(String(matching.count))), ("sort", .string("score desc, metadata_modified desc")),
                ("facets", .object([])), ("search_facets", .object([])),
                ("results", .array(page.map { $0.json(baseURL: baseURL, organization: organization) })),
            ])
        case "current_package_list_with_resources":
            let limit = try parameters.integer("limit", default: 10, range: 1...1000)
            let offset = try parameters.integer("offset", default: 0, range: 0...Int.max)
            let all = try await packages().sorted { $0.modified > $1.modified }
            return .array(all.dropFirst(offset).prefix(limit).map { $0.json(baseURL: baseURL, organization: organization) })
        case "organization_list":
            return .array([.string(organization.name)])
        case "resource_show":
            let id = try parameters.string("id", required: true)!
            guard let (package, resource) = try await findResource(id) else { throw Failure.notFound("resource '\(id)'") }
            return resource.json(package: package, baseURL: baseURL)
        case "datastore_search":
            return try await datastoreSearch(parameters)
        case "status_show":
            return .object([
                ("site_title", .string(catalog.config.title)), ("site_description", .string(catalog.config.description ?? "")),
                ("site_url", .string(baseURL)), ("ckan_version", .string("2.10.0")), ("locale_default", .string(catalog.config.language ?? "en")),
                ("extensions", .array([.string("datastore")])), ("sdata", .bool(true)),
            ])
        default:
            throw Failure(status: 400, type: "Bad Request", message: "unknown action '\(action)'; this catalog answers "
                          + CKANActions.actions.joined(separator: ", "))
        }
    }

    var organization: Organization {
        let name = catalog.config.publisher?.name ?? catalog.config.title
        return Organization(name: Organization.slug(name), title: name)
    }

    /// Every dataset's latest published version with its Data Package metadata.
    func packages() async throws -> [Package] {
        var result: [Package] = []
        for dataset in try await catalog.store.datasets() {
            let versions = try await catalog.store.versions(dataset: dataset).filter { $0.withdrawnAt == nil }
            guard let latest = versions.last else { continue }
            let descriptor = catalog.layout.publicDirectory + "/datasets/\(dataset)/\(latest.number)/datapackage.json"
            let metadata = (try? JSONStreamReader(path: descriptor, recordPath: []).readDocument()) ?? .object([])
            result.append(Package(version: latest, created: versions.first?.createdAt ?? latest.createdAt, metadata: metadata))
        }
        return result
    }

    func findResource(_ id: String) async throws -> (Package, Package.Resource)? {
        for package in try await packages() {
            if let resource = package.resources.first(where: { $0.id == id }) { return (package, resource) }
        }
        return nil
    }

    // MARK: - datastore_search

    private func datastoreSearch(_ parameters: [String: JSONValue]) async throws -> JSONValue {
        let id = try parameters.string("resource_id", required: true)!
        guard let (package, resource) = try await findResource(id) else { throw Failure.notFound("resource '\(id)'") }
        guard resource.format == "CSV" else {
            throw Failure.invalid("resource '\(id)' is \(resource.format); the datastore holds the CSV resources")
        }
        let limit = try parameters.integer("limit", default: 100, range: 0...32_000)
        let offset = try parameters.integer("offset", default: 0, range: 0...Int.max)
        let query = (try parameters.string("q") ?? "").lowercased()
        var filters: [(String, Set<String>)] = []
        if let given = parameters["filters"] {
            var object = given
            if case .string(let text) = given {
                guard let parsed = try? JSONStreamReader(bytes: Array(text.utf8), label: "filters").readDocument() else {
                    throw Failure.invalid("filters must be a JSON object")
                }
                object = parsed
            }
            guard case .object(let members) = object else { throw Failure.invalid("filters must be a JSON object") }
            filters = members.map { name, value in
                (name, Set(value.records.isEmpty && value != .null ? [value.text ?? ""] : value.records.compactMap(\.text)))
            }
        }
        let fields = package.fields
        for (name, _) in filters where !fields.contains(where: { $0.name == name }) {
            throw Failure.invalid("filters: field '\(name)' does not exist")
        }
        let path = catalog.layout.publicDirectory + "/" + resource.path
        var reader = try CSVReader(path: path, delimiter: UInt8(ascii: ","), quote: UInt8(ascii: "\""))
        guard let header = try reader.next()?.map(\.text) else { return .object([]) }
        let positions = filters.map { name, values in (header.firstIndex(of: name) ?? -1, values) }
        var records: [JSONValue] = []
        var total = 0
        var rowNumber = 0
        while let row = try reader.next() {
            rowNumber += 1
            if !positions.allSatisfy({ index, values in index >= 0 && index < row.count && values.contains(row[index].text) }) {
                continue
            }
            if !query.isEmpty, !row.contains(where: { $0.text.lowercased().contains(query) }) { continue }
            total += 1
            guard total > offset, records.count < limit else { continue }
            var members: [(String, JSONValue)] = [("_id", .number(String(rowNumber)))]
            for (index, name) in header.enumerated() where index < row.count {
                let type = fields.first { $0.name == name }?.type ?? "string"
                members.append((name, CKANActions.typed(row[index], type: type)))
            }
            records.append(.object(members))
        }
        let link = "/api/3/action/datastore_search?resource_id=\(PercentEncoding.encode(id))"
        return .object([
            ("include_total", .bool(true)), ("limit", .number(String(limit))), ("offset", .number(String(offset))),
            ("records_format", .string("objects")), ("resource_id", .string(id)),
            ("total_estimation_threshold", .null), ("records", .array(records)),
            ("fields", .array([.object([("id", .string("_id")), ("type", .string("int"))])] + fields.map { field in
                .object([("id", .string(field.name)), ("type", .string(CKANActions.ckanType(field.type)))])
            })),
            ("_links", .object([("start", .string(link)), ("next", .string(link + "&offset=\(offset + limit)"))])),
            ("total", .number(String(total))),
        ])
    }

    /// A CSV cell as a JSON value of its Table Schema type; a cell that does not parse stays text.
    static func typed(_ value: Value, type: String) -> JSONValue {
        guard case .string(let text) = value else { return .null }
        switch type {
        case "integer": return Int64(text) != nil ? .number(text) : .string(text)
        case "number": return Double(text) != nil ? .number(text) : .string(text)
        case "boolean": return text == "true" ? .bool(true) : text == "false" ? .bool(false) : .string(text)
        default: return .string(text)
        }
    }

    static func ckanType(_ type: String) -> String {
        switch type {
        case "integer": "int"
        case "number": "numeric"
        case "boolean": "bool"
        case "date": "date"
        case "datetime": "timestamp"
        default: "text"
        }
    }
}

struct Organization: Sendable {
    let name: String
    let title: String

    static func slug(_ text: String) -> String {
        let lowered = text.lowercased().map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined()
        return lowered.split(separator: "-").joined(separator: "-")
    }

    var json: JSONValue {
        .object([
            ("id", .string(name)), ("name", .string(name)), ("title", .string(title)), ("type", .string("organization")),
            ("description", .string("")), ("image_url", .string("")), ("is_organization", .bool(true)),
            ("approval_status", .string("approved")), ("state", .string("active")),
        ])
    }
}

/// A dataset as CKAN describes it, from its latest version and that version's Data Package.
struct Package: Sendable {
    struct Resource: Sendable {
        let id: String
        let name: String
        let format: String
        let mediaType: String
        let path: String
        let bytes: Int
        let sha256: String
        let created: Date
        let position: Int

        func json(package: Package, baseURL: String) -> JSONValue {
            .object([
                ("id", .string(id)), ("package_id", .string(package.id)), ("url", .string(baseURL + "/" + path)),
                ("name", .string(name)), ("description", .string("\(format) of version \(package.version.number)")),
                ("format", .string(format)), ("mimetype", .string(mediaType)), ("mimetype_inner", .null),
                ("size", .number(String(bytes))), ("hash", .string("sha256:" + sha256)),
                ("created", .string(Package.ckanTime(created))), ("last_modified", .string(Package.ckanTime(created))),
                ("datastore_active", .bool(format == "CSV")), ("position", .number(String(position))),
                ("state", .string("active")), ("url_type", .null),
            ])
        }
    }

    let version: VersionRecord
    let created: Date
    let metadata: JSONValue

    var id: String { version.dataset }
    var modified: Date { version.createdAt }
    var title: String { metadata["title"]?.text ?? version.title }
    var notes: String { metadata["description"]?.text ?? "" }
    var keywords: [String] { metadata["keywords"]?.records.compactMap(\.text) ?? [] }
    var license: String { metadata["licenses"]?.records.first?["name"]?.text ?? "notspecified" }

    /// The fields of the first tabular resource's Table Schema.
    var fields: [(name: String, type: String)] {
        let resource = metadata["resources"]?.records.first { $0["schema"] != nil }
        return (resource?["schema"]?["fields"]?.records ?? []).compactMap { field in
            field["name"]?.text.map { ($0, field["type"]?.text ?? "string") }
        }
    }

    var resources: [Resource] {
        version.distributions.enumerated().map { index, distribution in
            Resource(id: "\(id)--\(distribution.format.lowercased())", name: (distribution.path as NSString).lastPathComponent,
                     format: distribution.format.uppercased(), mediaType: distribution.mediaType,
                     path: distribution.path, bytes: distribution.bytes, sha256: distribution.sha256,
                     created: version.createdAt, position: index)
        }
    }

    func matches(_ query: String) -> Bool {
        ([id, title, notes] + keywords).contains { $0.lowercased().contains(query) }
    }

    func json(baseURL: String, organization: Organization) -> JSONValue {
        .object([
            ("id", .string(id)), ("name", .string(id)), ("title", .string(title)), ("type", .string("dataset")),
            ("notes", .string(notes)), ("url", .string(baseURL + "/datasets/\(id)/")),
            ("version", .string(String(version.number))), ("author", .null), ("author_email", .null),
            ("maintainer", .null), ("maintainer_email", .null),
            ("license_id", .string(license.lowercased())), ("license_title", .string(license)),
            ("isopen", .bool(!license.lowercased().hasPrefix("notspecified"))), ("private", .bool(false)),
            ("state", .string("active")), ("owner_org", .string(organization.name)), ("organization", organization.json),
            ("metadata_created", .string(Package.ckanTime(created))),
            ("metadata_modified", .string(Package.ckanTime(version.createdAt))),
            ("num_resources", .number(String(resources.count))), ("num_tags", .number(String(keywords.count))),
            ("tags", .array(keywords.map { keyword in
                .object([("id", .string(keyword)), ("name", .string(keyword)), ("display_name", .string(keyword)),
                         ("state", .string("active")), ("vocabulary_id", .null)])
            })),
            ("groups", .array([])),
            ("extras", .array([.object([("key", .string("sdata_content_hash")), ("value", .string(version.contentHash))])])),
            ("resources", .array(resources.map { $0.json(package: self, baseURL: baseURL) })),
        ])
    }

    /// CKAN's timestamps: ISO 8601 with microseconds, no zone (UTC).
    static func ckanTime(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .nanosecond], from: date)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%06d", parts.year!, parts.month!, parts.day!, parts.hour!,
                      parts.minute!, parts.second!, (parts.nanosecond ?? 0) / 1000)
    }
}

extension [String: JSONValue] {
    func string(_ name: String, required: Bool = false) throws -> String? {
        guard let value = self[name], value != .null else {
            if required { throw CKANActions.Failure.invalid("\(name): Missing value") }
            return nil
        }
        guard let text = value.text else { throw CKANActions.Failure.invalid("\(name): must be a string") }
        return text
    }

    func integer(_ name: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int {
        guard let value = self[name], value != .null else { return fallback }
        guard let number = value.integer, range.contains(number) else {
            throw CKANActions.Failure.invalid("\(name): must be a whole number from \(range.lowerBound)"
                                              + (range.upperBound == Int.max ? " up" : " to \(range.upperBound)"))
        }
        return number
    }
}
