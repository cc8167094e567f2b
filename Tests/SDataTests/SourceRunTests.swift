import Foundation
import Testing
import Synchronization
import SDataCore
import SDataCatalog
import SDataRunner
import SDataSpec

/// Network sources through the whole runner and the real `sdata` binary: what the server served is exactly what is
/// published; faults and unchanged sources publish nothing new; keys reach neither the catalog nor the logs.
@Suite(.serialized) struct SourceRunTests {
    static func project(_ spec: String, name: String = "source.yaml") throws -> (directory: String, spec: String) {
        let directory = try TestSupport.temporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory + "/catalog", withIntermediateDirectories: true)
        try TestSupport.write(spec, to: directory + "/" + name)
        return (directory, directory + "/" + name)
    }

    /// Runs the binary off the cooperative pool, so the in-process server keeps answering.
    static func sdata(_ arguments: [String], in directory: String,
                      environment: [String: String] = [:]) async throws -> TestSupport.ProcessResult {
        try await TestSupport.executeAsync(TestSupport.sdataBinary, arguments, in: directory, environment: environment)
    }

    static func seoulSpec(_ base: String, pageSize: Int = 1000) -> String {
        """
        id: seoul-cases-live
        title: Seoul cases (loopback)
        source:
          plugin: seoul-openapi
          with:
            key: ${secret:SEOUL_API_KEY}
            service: Corona19Status
            page_size: \(pageSize)
            base_url: \(base)/seoul
          http: { timeout: 5s, retries: 3, backoff: 0s }
        publish:
          license: CC-BY-4.0
        """
    }

    @Test func theBinaryPublishesEveryRowTheServerServedAndNeverTheKey() async throws {
        try await FixtureServer.with { server, base in
            let (directory, spec) = try Self.project(Self.seoulSpec(base))
            defer { try? FileManager.default.removeItem(atPath: directory) }
            server.inject(.status(503, retryAfter: "1"), on: "/1001/2000")
            let environment = ["SDATA_SECRET_SEOUL_API_KEY": "seoul-key+1"]
            let result = try await Self.sdata(["run", spec, "--catalog", "catalog", "--log-level", "debug"],
                                              in: directory, environment: environment)
            #expect(result.status == 0, "\(result.stderr)")
            let csv = try TestSupport.read(directory + "/catalog/public/datasets/seoul-cases-live/latest/seoul-cases-live.csv")
            let lines = csv.split(separator: "\n")
            #expect(lines.count == 2346, "a header and every row")
            let ids: [String] = lines.dropFirst().map { line in String(line.split(separator: ",")[0]) }
            #expect(Set(ids).count == 2345)
            #expect(result.stderr.contains("HTTP 503"), "the retry is logged")
            let everything = result.stdout + result.stderr + TestSupport.allText(under: directory + "/catalog")
            #expect(!everything.contains("seoul-key+1") && !everything.contains("seoul-key%2B1"),
                    "the key appears nowhere: not in logs, run records or published files")
        }
    }

    @Test func aSourceThatKeepsFailingPublishesNothingAndKeepsThePreviousVersion() async throws {
        try await FixtureServer.with { server, base in
            let (directory, spec) = try Self.project(Self.seoulSpec(base))
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let redactor = SecretRedactor()
            let loader = TestSupport.loader(environment: ["SDATA_SECRET_SEOUL_API_KEY": "seoul-key+1"], redactor: redactor)
            let pipeline = try loader.load(file: spec).get()
            let catalog = try Catalog.open(root: directory + "/catalog")
            let first = await TestSupport.runner(catalog, redactor: redactor).run(pipeline)
            #expect(first.run.status == .published)
            server.settings.withLock { $0.seoulTotal = 2400 }
            server.inject(.status(500), on: "/2001/", times: 100)
            let second = await TestSupport.runner(catalog, redactor: redactor).run(pipeline)
            #expect(second.run.status == .failed)
            let reason = second.run.error ?? ""
            #expect(reason.contains("rows 2001–2400") && reason.contains("HTTP 500") && reason.contains("gave up"), "\(reason)")
            #expect(!reason.contains("seoul-key"), "\(reason)")
            let versions = try await catalog.store.versions(dataset: "seoul-cases-live")
            #expect(versions.count == 1, "nothing was published from the failed extraction")
            #expect(versions.first?.rowCount == 2345)
        }
    }

    @Test func anUnchangedSourceEndsTheRunAfterOneRequestAndIncrementalBookmarksAreSent() async throws {
        try await FixtureServer.with { server, base in
            let (directory, spec) = try Self.project("""
                id: json-document
                source:
                  plugin: http-json
                  with:
                    url: \(base)/json/doc
                publish:
                  license: CC-BY-4.0
                """)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let catalog = try Catalog.open(root: directory + "/catalog")
            let pipeline = try TestSupport.spec(spec)
            #expect(await TestSupport.runner(catalog).run(pipeline).run.status == .published)
            let second = await TestSupport.runner(catalog).run(pipeline)
            #expect(second.run.status == .unchanged)
            #expect(second.run.version == 1)
            #expect(server.requests.count == 2, "the unchanged run cost one conditional request")

            let incremental = directory + "/incremental.yaml"
            try TestSupport.write("""
                id: json-incremental
                source:
                  plugin: http-json
                  with:
                    url: \(base)/json/page
                    record_path: data.items
                    pagination: page
                    size_param: per_page
                    since_param: since
                  incremental: { cursor: id }
                schema:
                  fields:
                    - { name: id, type: integer }
                  additional_fields: allow
                publish:
                  license: CC-BY-4.0
                """, to: incremental)
            let bookmarked = try TestSupport.spec(incremental)
            #expect(await TestSupport.runner(catalog).run(bookmarked).run.status == .published)
            #expect(!server.requests.contains { $0.contains("since=") })
            _ = await TestSupport.runner(catalog).run(bookmarked)
            #expect(server.requests.contains { $0.contains("since=250") }, "the saved cursor is sent on the next run")
        }
    }

    @Test func pluginOptionErrorsNameTheSpecLine() async throws {
        let (directory, spec) = try Self.project(Self.seoulSpec("http://127.0.0.1:9", pageSize: 5000))
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try await Self.sdata(["validate", spec], in: directory,
                                          environment: ["SDATA_SECRET_SEOUL_API_KEY": "k-1234"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("source.yaml:8:16: error: option 'page_size' of plugin 'seoul-openapi' must be between 1 and 1000"),
                "\(result.stderr)")
    }
}
