import Crypto
import Foundation
import SDataCore
import SDataPluginAPI

/// What changed between two published versions of a dataset: fields added, removed or retyped, and rows added,
/// removed or changed — matched by the primary key when the schema declares one, else by the whole row.
///
/// The older version's rows are held as key → digest (not the rows themselves); the newer one is streamed.
public struct VersionDiff: Sendable, Codable {
    public var dataset: String
    public var from: Int
    public var to: Int
    public var matchedBy: String
    public var fieldsAdded: [String] = []
    public var fieldsRemoved: [String] = []
    public var fieldsRetyped: [String] = []
    public var rowsAdded = 0
    public var rowsRemoved = 0
    public var rowsChanged = 0
    public var rowsUnchanged = 0
    /// Up to ten keys of each kind, for a first look (the data is public already).
    public var sampleAdded: [String] = []
    public var sampleRemoved: [String] = []
    public var sampleChanged: [String] = []

    public static func compare(_ catalog: Catalog, dataset: String, from: Int, to: Int) async throws -> VersionDiff {
        let versions = try await catalog.store.versions(dataset: dataset)
        func find(_ number: Int) throws -> VersionRecord {
            guard let version = versions.first(where: { $0.number == number }) else {
                throw CatalogError("'\(dataset)' has no version \(number) (it has \(versions.map { String($0.number) }.joined(separator: ", ")))")
            }
            guard version.withdrawnAt == nil else {
                throw CatalogError("version \(number) of '\(dataset)' was withdrawn; its files are gone")
            }
            return version
        }
        let old = try find(from), new = try find(to)
        let oldPackage = package(catalog, dataset, from), newPackage = package(catalog, dataset, to)
        let oldFields = fields(oldPackage), newFields = fields(newPackage)
        let key = (primaryKey(newPackage) ?? []).filter { name in oldFields.contains { $0.0 == name } }
        var diff = VersionDiff(dataset: dataset, from: from, to: to,
                               matchedBy: key.isEmpty ? "row content" : "primary key (\(key.joined(separator: ", ")))")
        let oldNames = Dictionary(oldFields, uniquingKeysWith: { first, _ in first })
        let newNames = Dictionary(newFields, uniquingKeysWith: { first, _ in first })
        diff.fieldsAdded = newFields.map(\.0).filter { oldNames[$0] == nil }
        diff.fieldsRemoved = oldFields.map(\.0).filter { newNames[$0] == nil }
        diff.fieldsRetyped = newFields.compactMap { name, type in oldNames[name].flatMap { $0 != type ? "\(name) (\($0) → \(type))" : nil } }

        guard let oldCSV = csvPath(catalog, old), let newCSV = csvPath(catalog, new) else {
            throw CatalogError("both versions need a CSV distribution to compare rows")
        }
        let common = newFields.map(\.0).filter { oldNames[$0] != nil }
        // Old side: key → digest of the row (with key columns matched by name, so column order does not matter).
        var remaining: [String: [UInt8]] = [:]
        var multiset: [[UInt8]: Int] = [:]
        try rows(oldCSV) { header, row in
            let digest = digestOf(row, header: header, common: common)
            if key.isEmpty { multiset[digest, default: 0] += 1 } else { remaining[keyOf(row, header: header, key: key)] = digest }
        }
        try rows(newCSV) { header, row in
            let digest = digestOf(row, header: header, common: common)
            if key.isEmpty {
                if let count = multiset[digest], count > 0 {
                    multiset[digest] = count - 1
                    diff.rowsUnchanged += 1
                } else {
                    diff.rowsAdded += 1
                }
                return
            }
            let id = keyOf(row, header: header, key: key)
            if let before = remaining.removeValue(forKey: id) {
                if before == digest { diff.rowsUnchanged += 1 } else {
                    diff.rowsChanged += 1
                    if diff.sampleChanged.count < 10 { diff.sampleChanged.append(id) }
                }
            } else {
                diff.rowsAdded += 1
                if diff.sampleAdded.count < 10 { diff.sampleAdded.append(id) }
            }
        }
        if key.isEmpty {
            diff.rowsRemoved = multiset.values.reduce(0, +)
        } else {
            diff.rowsRemoved = remaining.count
            diff.sampleRemoved = Array(remaining.keys.sorted().prefix(10))
        }
        return diff
    }

    static func package(_ catalog: Catalog, _ dataset: String, _ version: Int) -> [String: Any] {
        let path = catalog.layout.versionDirectory(dataset, version) + "/datapackage.json"
        return FileManager.default.contents(atPath: path)
            .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] } ?? [:]
    }

    static func tabular(_ package: [String: Any]) -> [String: Any]? {
        (package["resources"] as? [[String: Any]])?.first { $0["schema"] != nil }?["schema"] as? [String: Any]
    }

    static func fields(_ package: [String: Any]) -> [(String, String)] {
        (tabular(package)?["fields"] as? [[String: Any]] ?? []).map { ($0["name"] as? String ?? "", $0["type"] as? String ?? "string") }
    }

    static func primaryKey(_ package: [String: Any]) -> [String]? {
        let key = tabular(package)?["primaryKey"]
        if let names = key as? [String], !names.isEmpty { return names }
        if let name = key as? String { return [name] }
        return nil
    }

    static func csvPath(_ catalog: Catalog, _ version: VersionRecord) -> String? {
        version.distributions.first { $0.format == "csv" }.map { catalog.layout.publicDirectory + "/" + $0.path }
    }

    static func rows(_ path: String, _ body: ([String], [Value]) throws -> Void) throws {
        var reader = try CSVReader(path: path, delimiter: UInt8(ascii: ","), quote: UInt8(ascii: "\""))
        guard let header = try reader.next()?.map(\.text) else { return }
        while let row = try reader.next() { try body(header, row) }
    }

    static func keyOf(_ row: [Value], header: [String], key: [String]) -> String {
        key.map { name in header.firstIndex(of: name).map { $0 < row.count ? row[$0].text : "" } ?? "" }
            .joined(separator: "|")
    }

    /// SHA-256 of the cells of the fields both versions share, in `common`'s order.
    static func digestOf(_ row: [Value], header: [String], common: [String]) -> [UInt8] {
        var hasher = SHA256()
        for name in common {
            guard let index = header.firstIndex(of: name) else { continue }
            let text = index < row.count ? row[index].text : ""
            hasher.update(data: Data(text.utf8))
            hasher.update(data: Data([0x1F]))
        }
        return Array(hasher.finalize())
    }
}
