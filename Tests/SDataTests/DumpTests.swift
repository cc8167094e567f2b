import Foundation
import Testing
import SDataCatalog
import ZIPFoundation

/// Whole-catalog dumps: complete, self-verifying, rotated, and caught when tampered with.
@Suite(.serialized) struct DumpTests {
    @Test func aDumpHoldsEveryLatestVersionAndVerifiesItself() async throws {
        let project = try EndToEndTests.exampleProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        _ = try await EndToEndTests.runAll(project)
        let catalog = try Catalog.open(root: project + "/catalog")
        let made = try await CatalogDump.make(catalog, keep: 2)
        #expect(made.datasets == 5)
        #expect(made.file.hasPrefix(catalog.layout.publicDirectory + "/dumps/catalog-"))
        let archive = try Archive(url: URL(fileURLWithPath: made.file), accessMode: .read)
        let paths = Set(archive.map(\.path))
        #expect(paths.contains("MANIFEST.sha256") && paths.contains("catalog.jsonld"))
        #expect(paths.contains("datasets/seoul-covid19-daily/1/datapackage.json"))
        #expect(paths.contains("datasets/seoul-covid19-daily/1/seoul-covid19-daily.csv"))
        // The binary agrees, with its exit code.
        let verified = try TestSupport.execute(TestSupport.sdataBinary, ["catalog", "verify", made.file])
        #expect(verified.status == 0 && verified.stdout.contains("ok: \(made.files) files match MANIFEST.sha256"))
        #expect(try TestSupport.read(made.file + ".sha256").hasPrefix(made.sha256))
        #expect(try TestSupport.read(catalog.layout.publicDirectory + "/dumps/index.json").contains(made.sha256))

        // An altered file inside the zip is caught.
        let tampered = project + "/tampered.zip"
        try FileManager.default.copyItem(atPath: made.file, toPath: tampered)
        let update = try Archive(url: URL(fileURLWithPath: tampered), accessMode: .update)
        let victim = try #require(update["datasets/seoul-covid19-daily/1/seoul-covid19-daily.csv"])
        try update.remove(victim)
        let forged = Data("S_DT,S_HJ\n2022-03-01,1\n".utf8)
        try update.addEntry(with: victim.path, type: .file, uncompressedSize: Int64(forged.count)) { position, size in
            forged.subdata(in: Int(position)..<Int(position) + size)
        }
        let check = try CatalogDump.verify(tampered)
        #expect(!check.ok && check.problems.contains { $0.contains("seoul-covid19-daily.csv: checksum") })
        #expect(try TestSupport.execute(TestSupport.sdataBinary, ["catalog", "verify", tampered]).status == 1)

        // Rotation keeps the newest two.
        for second in 1...2 { _ = try await CatalogDump.make(catalog, keep: 2, now: Date().addingTimeInterval(Double(second))) }
        let zips = try FileManager.default.contentsOfDirectory(atPath: catalog.layout.publicDirectory + "/dumps")
            .filter { $0.hasSuffix(".zip") }
        #expect(zips.count == 2)
    }
}
