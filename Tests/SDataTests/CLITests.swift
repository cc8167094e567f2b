import Foundation
import Testing
import SDataCatalog

/// The `sdata` executable as users run it: output format and exit codes.
@Suite(.serialized)
struct CLITests {
    @Test func misspeltKeyGivesLocatedErrorAndExitOne() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try TestSupport.write("id: x\nsource:\n  plugin: file\n  wiht: { path: a.csv }\n", to: directory + "/pipelines/x.yaml")
        let result = try TestSupport.execute(TestSupport.sdataBinary, ["validate"], in: directory)
        #expect(result.status == 1)
        #expect(result.stderr.contains("pipelines/x.yaml:4:3: error: unknown key 'wiht' in 'source' (did you mean 'with'?)"))
        let run = try TestSupport.execute(TestSupport.sdataBinary, ["run", "--all"], in: directory)
        #expect(run.status == 1)
    }

    @Test func usageErrorsExitTwo() throws {
        #expect(try TestSupport.execute(TestSupport.sdataBinary, ["run"]).status == 2)
        #expect(try TestSupport.execute(TestSupport.sdataBinary, ["frobnicate"]).status == 2)
        #expect(try TestSupport.execute(TestSupport.sdataBinary, ["run", "a.yaml", "--all"]).status == 2)
        let engine = try TestSupport.execute(TestSupport.sdataBinary, ["run", "a.yaml", "--engine", "fast"])
        #expect(engine.status == 2)
        #expect(engine.stderr.contains("--engine must be auto, row or columnar"))
    }

    /// The columnar engine through the CLI: the run log names it, and `--engine row` publishes the same bytes.
    @Test func bothEnginesPublishTheSameCSVFromTheCommandLine() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var csv = "id,age,district\n"
        for row in 0..<500 { csv += "\(row),\(20 + row % 50),\(["종로구", "중구", "\"강남구, 역삼\""][row % 3])\n" }
        try TestSupport.write(csv, to: directory + "/pipelines/people.csv")
        try TestSupport.write("""
            id: people
            source: { plugin: file, with: { path: people.csv } }
            governance:
              rules:
                - generalize: { field: age, band: 10 }
                - k_anonymity: { quasi_identifiers: [age, district], k: 20 }
            publish: { formats: [csv] }
            """, to: directory + "/pipelines/people.yaml")
        var published: [Data] = []
        for engine in ["columnar", "row"] {
            let catalog = directory + "/catalog-" + engine
            let run = try TestSupport.execute(TestSupport.sdataBinary,
                                              ["run", "--all", "--engine", engine, "--catalog", catalog, "--log-level", "info"],
                                              in: directory)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stderr.contains("engine=columnar") == (engine == "columnar"), "\(run.stderr)")
            published.append(try Data(contentsOf: URL(fileURLWithPath: catalog + "/public/datasets/people/1/people.csv")))
        }
        #expect(published[0] == published[1])
        #expect(!published[0].isEmpty)
    }

    @Test func initScaffoldsAProjectThatRuns() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try TestSupport.execute(TestSupport.sdataBinary, ["init", directory]).status == 0)
        #expect(try TestSupport.execute(TestSupport.sdataBinary, ["validate"], in: directory).status == 0)
        let run = try TestSupport.execute(TestSupport.sdataBinary, ["run", "--all", "--json"], in: directory)
        #expect(run.status == 0, "\(run.stderr)")
        let summaries = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]]
        let runRecord = summaries?.first?["run"] as? [String: Any]
        #expect(runRecord?["status"] as? String == "published")
        let list = try TestSupport.execute(TestSupport.sdataBinary, ["catalog", "list"], in: directory)
        #expect(list.stdout.contains("example-districts  v1  3 rows"))
        let path = try TestSupport.execute(TestSupport.sdataBinary,
                                           ["catalog", "path", "example-districts", "--format", "csv"], in: directory)
        #expect(path.stdout.hasSuffix("datasets/example-districts/1/example-districts.csv\n"))
        let runs = try TestSupport.execute(TestSupport.sdataBinary, ["runs", "--json"], in: directory)
        #expect(runs.stdout.contains("\"status\" : \"published\""))
        let missing = try TestSupport.execute(TestSupport.sdataBinary, ["catalog", "show", "nope"], in: directory)
        #expect(missing.status == 1)
    }

    @Test func runnersShareTheCatalogButNeverRunOnePipelineTwice() async throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try TestSupport.execute(TestSupport.sdataBinary, ["init", directory]).status == 0)
        let catalog = try Catalog.open(root: directory + "/catalog")
        // Retention takes the catalog alone: runners wait for it.
        let maintenance = try catalog.acquireRunLock(exclusive: true)
        let refused = try TestSupport.execute(TestSupport.sdataBinary, ["run", "--all"], in: directory)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("a maintenance command (retention) holds the catalog"))
        maintenance.release()
        // Another process holds the pipeline's lease (it is running it): this runner leaves it alone.
        let pipeline = try #require(try FileManager.default.contentsOfDirectory(atPath: directory + "/pipelines").first)
        let text = try TestSupport.read(directory + "/pipelines/" + pipeline)
        let id = try #require(text.split(separator: "\n").first { $0.hasPrefix("id:") }?.dropFirst(3)
            .trimmingCharacters(in: .whitespaces))
        #expect(try await catalog.store.acquireLease("pipeline:" + id, holder: "other-host:42:7", ttl: 300, now: Date()))
        let skipped = try TestSupport.execute(TestSupport.sdataBinary, ["run", "--all"], in: directory)
        #expect(skipped.status == 0, "\(skipped.stderr)")
        #expect(skipped.stdout.contains("skipped: already running in another process (other-host:42:7"), "\(skipped.stdout)")
        #expect(try await catalog.store.runs(pipeline: id, limit: 10).isEmpty, "a skipped run is not recorded")
        try await catalog.store.releaseLease("pipeline:" + id, holder: "other-host:42:7")
        #expect(try TestSupport.execute(TestSupport.sdataBinary, ["run", "--all"], in: directory).status == 0)
        #expect(try await catalog.store.runs(pipeline: id, limit: 10).count == 1)
        #expect(try await catalog.store.leases().isEmpty, "the runner released its lease")
    }

    @Test func warningsAreShownForValidSpecs() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try TestSupport.write("""
            id: x
            source: { plugin: file, with: { path: a.csv } }
            governance: { classification: sensitive, roles: { a: public } }
            """, to: directory + "/pipelines/x.yaml")
        let result = try TestSupport.execute(TestSupport.sdataBinary, ["validate"], in: directory)
        #expect(result.status == 0)
        #expect(result.stderr.contains("x.yaml:3:13: warning: a sensitive pipeline without a 'k_anonymity' rule"))
    }

    @Test func logsCanBeJSONLines() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try TestSupport.execute(TestSupport.sdataBinary, ["init", directory]).status == 0)
        let run = try TestSupport.execute(TestSupport.sdataBinary, ["run", "--all", "--log-format", "json", "--log-level", "info"],
                                          in: directory)
        #expect(run.status == 0)
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.count >= 3)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
            #expect(object?["level"] != nil && object?["msg"] != nil && object?["time"] != nil)
        }
        #expect(try TestSupport.execute(TestSupport.sdataBinary, ["runs", "--log-format", "xml"], in: directory).status == 2)
    }

    @Test func pluginsAreDocumented() throws {
        let list = try TestSupport.execute(TestSupport.sdataBinary, ["plugins"])
        #expect(list.stdout.contains("file"))
        let file = try TestSupport.execute(TestSupport.sdataBinary, ["plugins", "file"])
        #expect(file.stdout.contains("| `record_path` |"))
    }

    @Test func theLiveVariantsValidateWithoutTheirKeys() throws {
        let root = TestSupport.packageRoot
        let strict = try TestSupport.execute(TestSupport.sdataBinary, ["validate", "pipelines/live"], in: root,
                                             environment: ["SDATA_SECRETS_FILE": "/nonexistent"])
        #expect(strict.status == 1, "without --secrets-optional a missing key is an error")
        #expect(strict.stderr.contains("error: secret 'SEOUL_API_KEY' is not set"))
        let relaxed = try TestSupport.execute(TestSupport.sdataBinary, ["validate", "--secrets-optional", "pipelines/live"],
                                              in: root, environment: ["SDATA_SECRETS_FILE": "/nonexistent"])
        #expect(relaxed.status == 0, "\(relaxed.stderr)")
        #expect(relaxed.stdout.contains("5 specs valid"))
        #expect(relaxed.stderr.contains("warning: secret 'SEOUL_API_KEY' is not set; checked with a placeholder"))
    }
}
