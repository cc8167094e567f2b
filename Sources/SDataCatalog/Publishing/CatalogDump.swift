public import Foundation
import Crypto
import SDataCore
import ZIPFoundation

/// Whole-catalog downloads: a zip of every dataset's latest version with all its metadata, `catalog.jsonld`, and a
/// checksum manifest, in `public/dumps/`. A dump verifies itself (``verify(_:)``): every file in it is listed in
/// `MANIFEST.sha256` with its SHA-256, and nothing else is in it.
public enum CatalogDump {
    /// A dump is built as `.drafts/dump-<uuid>.zip`; ``Catalog/recover(now:)`` deletes one that nothing has written
    /// to for `abandonedAfter` seconds (its process died), and leaves a growing one alone.
    static let draftPrefix = "dump-"
    static let abandonedAfter: TimeInterval = 15 * 60

    public struct Made: Sendable, Codable {
        public var file: String
        public var bytes: Int
        public var sha256: String
        public var datasets: Int
        public var files: Int
        public var removed: [String]
    }

    public struct Verification: Sendable, Codable {
        public var files: Int
        public var problems: [String]
        public var ok: Bool { problems.isEmpty }
    }

    /// Writes a new dump into `public/dumps/` (built aside and renamed into place: a dump is whole or absent), and
    /// keeps only the newest `keep`. Also writes `NAME.zip.sha256` beside it and `dumps/index.json`.
    public static func make(_ catalog: Catalog, keep: Int = 7, now: Date = Date()) async throws -> Made {
        let layout = catalog.layout
        let dumps = layout.publicDirectory + "/dumps"
        try FileManager.default.createDirectory(atPath: dumps, withIntermediateDirectories: true)
        let stamp = Timestamp.string(now).prefix(19).replacing(":", with: "").replacing("-", with: "")
        let name = "catalog-\(stamp)Z.zip"
        let draft = layout.draftsDirectory + "/" + draftPrefix + "\(UUID().uuidString).zip"
        defer { try? FileManager.default.removeItem(atPath: draft) }
        var manifest: [(String, String)] = []
        var datasetCount = 0
        do {
            let archive = try Archive(url: URL(fileURLWithPath: draft), accessMode: .create)
            func add(_ path: String, from file: String) throws {
                try archive.addEntry(with: path, fileURL: URL(fileURLWithPath: file), compressionMethod: .deflate)
                manifest.append((try sha256(ofFile: file), path))
            }
            for dataset in try await catalog.store.datasets() {
                guard let latest = try await catalog.store.latestVersion(dataset: dataset), latest.withdrawnAt == nil else {
                    continue
                }
                let folder = layout.versionDirectory(dataset, latest.number)
                let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder))?.sorted() ?? []
                for entry in entries {
                    try add("datasets/\(dataset)/\(latest.number)/\(entry)", from: folder + "/" + entry)
                }
                datasetCount += 1
            }
            let jsonld = layout.publicDirectory + "/catalog.jsonld"
            if FileManager.default.fileExists(atPath: jsonld) { try add("catalog.jsonld", from: jsonld) }
            let listing = manifest.map { "\($0.0)  \($0.1)\n" }.joined()
            try archive.addEntry(with: "MANIFEST.sha256", type: .file, uncompressedSize: Int64(listing.utf8.count),
                                 compressionMethod: .deflate) { position, size in
                Data(listing.utf8).subdata(in: Int(position)..<Int(position) + size)
            }
        }
        let target = dumps + "/" + name
        try FileSystem.rename(draft, to: target)
        let data = try sha256(ofFile: target)
        let bytes = (try FileManager.default.attributesOfItem(atPath: target)[.size] as? NSNumber)?.intValue ?? 0
        try FileSystem.replace(target + ".sha256", with: Data("\(data)  \(name)\n".utf8))
        // Keep the newest `keep` dumps.
        let all = ((try? FileManager.default.contentsOfDirectory(atPath: dumps)) ?? [])
            .filter { $0.hasPrefix("catalog-") && $0.hasSuffix(".zip") }.sorted()
        var removed: [String] = []
        for old in all.dropLast(max(1, keep)) {
            try? FileManager.default.removeItem(atPath: dumps + "/" + old)
            try? FileManager.default.removeItem(atPath: dumps + "/" + old + ".sha256")
            removed.append(old)
        }
        try writeIndex(dumps)
        try await catalog.renderSite()  // the index page links the dumps
        return Made(file: target, bytes: bytes, sha256: data, datasets: datasetCount, files: manifest.count,
                    removed: removed)
    }

    /// `dumps/index.json`: every dump with its size and checksum, newest first.
    static func writeIndex(_ dumps: String) throws {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: dumps)) ?? [])
            .filter { $0.hasPrefix("catalog-") && $0.hasSuffix(".zip") }.sorted().reversed()
        let entries = files.map { file -> String in
            let path = dumps + "/" + file
            let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
            let sum = (try? String(contentsOfFile: path + ".sha256", encoding: .utf8))?.split(separator: " ").first ?? ""
            return "{\"file\":\(JSONText.quote(file)),\"bytes\":\(size),\"sha256\":\(JSONText.quote(String(sum)))}"
        }
        try FileSystem.replace(dumps + "/index.json", with: Data(("[" + entries.joined(separator: ",") + "]\n").utf8))
    }

    /// Checks a dump against its own manifest: every listed file present with its checksum, nothing unlisted.
    public static func verify(_ path: String) throws -> Verification {
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            return Verification(files: 0, problems: ["\(path) is not a readable zip archive"])
        }
        guard let manifestEntry = archive["MANIFEST.sha256"] else {
            return Verification(files: 0, problems: ["\(path) has no MANIFEST.sha256"])
        }
        var manifestData = Data()
        _ = try archive.extract(manifestEntry) { manifestData.append($0) }
        var expected: [String: String] = [:]
        for line in String(decoding: manifestData, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { continue }
            expected[String(parts[1].drop { $0 == " " })] = String(parts[0])
        }
        var problems: [String] = []
        var seen = Set<String>()
        for entry in archive where entry.type == .file && entry.path != "MANIFEST.sha256" {
            seen.insert(entry.path)
            guard let want = expected[entry.path] else {
                problems.append("\(entry.path): in the archive but not in the manifest")
                continue
            }
            var hasher = SHA256()
            do {
                _ = try archive.extract(entry) { hasher.update(data: $0) }
            } catch {
                problems.append("\(entry.path): cannot be read (\(error))")
                continue
            }
            let got = Hex.string(hasher.finalize())
            if got != want { problems.append("\(entry.path): checksum \(got) does not match the manifest's \(want)") }
        }
        for missing in Set(expected.keys).subtracting(seen).sorted() {
            problems.append("\(missing): listed in the manifest but missing from the archive")
        }
        return Verification(files: seen.count, problems: problems)
    }

    static func size(ofFile path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
    }

    static func sha256(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw CatalogError.io("cannot read", path: path) }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return Hex.string(hasher.finalize())
    }
}
