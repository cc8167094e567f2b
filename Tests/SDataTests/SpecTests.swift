import Foundation
import Testing
import SDataCore
import SDataSpec
import SDataPluginAPI

struct SpecTests {
    static let valid = """
        id: sample
        source:
          plugin: file
          with:
            path: data.csv
        governance:
          rules:
            - drop: [name]
        """

    /// Malformed specs, each with the line and column its first error must point at and words the message must hold.
    static let corpus: [(String, Int, Int, String)] = [
        ("id: sample\ntitel: x\nsource: { plugin: file, with: { path: a.csv } }\n", 2, 1, "did you mean 'title'"),
        ("id: sample\nsource:\n  plugin: fiel\n  with: { path: a.csv }\n", 3, 11, "did you mean 'file'"),
        ("id: sample\nsource:\n  plugin: file\n  with: { pth: a.csv }\n", 4, 9, "did you mean 'path'"),
        ("id: sample\nsource:\n  plugin: file\n  with: { path: a.csv, header: maybe }\n", 4, 32, "true or false"),
        ("id: sample\nsource:\n  plugin: file\n  with: { path: a.xml }\n", 4, 9, "record_path"),
        ("id: Sample_1\nsource: { plugin: file, with: { path: a.csv } }\n", 1, 5, "lowercase"),
        ("source: { plugin: file, with: { path: a.csv } }\n", 1, 1, "'id'"),
        ("id: sample\n", 1, 1, "'source'"),
        ("id: sample\nsource: { plugin: file, with: { path: a.csv } }\ngovernance:\n  rules:\n    - pseudonymise: { fields: [p] }\n",
         5, 7, "did you mean 'pseudonymize'"),
        ("id: sample\nsource: { plugin: file, with: { path: a.csv } }\ngovernance:\n  rules:\n    - generalize: { field: a, band: 5, decimals: 2 }\n",
         5, 19, "exactly one"),
        ("id: sample\nsource: { plugin: file, with: { path: a.csv } }\ngovernance:\n  rules:\n    - k_anonymity: { quasi_identifiers: [a], k: 1 }\n",
         5, 49, "between 2"),
        ("id: sample\nsource: { plugin: file, with: { path: a.csv } }\ngovernance:\n  rules:\n    - redact: { field: n, detect: [phnoe] }\n",
         5, 36, "did you mean 'phone'"),
        ("id: sample\nsource: { plugin: file, with: { path: a.csv } }\ngovernance:\n  classification: secret\n", 4, 19,
         "unknown classification"),
        ("id: sample\nsource: { plugin: file, with: { path: a.csv } }\ngovernance:\n  rules:\n    - pseudonymize: { fields: [p], key: plaintext-key }\n",
         5, 41, "secret"),
        ("id: sample\nsource: { plugin: file, with: { path: a.csv } }\npublish:\n  formats: [csv, parquett]\n", 4, 18,
         "unknown format"),
        ("id: sample\nsource: { plugin: file, with: { path: a.csv } }\npublish:\n  licence: CC-BY-4.0\n", 4, 3,
         "did you mean 'license'"),
        ("id: sample\nsource: { plugin: file, with: { path: a.csv } }\nschedule: \"61 2 * * *\"\n", 3, 11, "minute"),
        ("id: sample\nsource: { plugin: file, with: { path: a.csv } }\nschedule: \"0 2 * *\"\n", 3, 11, "5 fields"),
        ("id: sample\nschedule: \"0 2 * * *\"\ntimezone: Asia/Seol\nsource: { plugin: file, with: { path: a.csv } }\n", 3, 11,
         "time zone"),
        ("id: sample\nsource: { plugin: file, with: { path: \"${MISSING_VAR}/a.csv\" } }\n", 2, 40, "MISSING_VAR"),
        ("id: sample\nsource: { plugin: file, with: { path: a.csv } }\ngovernance:\n  rules:\n    - pseudonymize: { fields: [p], key: \"${secret:NOPE}\" }\n",
         5, 41, "secret 'NOPE' is not set"),
        ("id: sample\nsource:\n  plugin: file\n  with: { path: a.csv }\n  with: { path: b.csv }\n", 4, 3, "twice"),
        ("id: sample\nsource: [\n", 3, 1, "invalid YAML"),
        ("id: sample\nsource: { plugin: file, with: { path: a.csv } }\nschema:\n  fields:\n    - { name: a, type: strin }\n",
         5, 24, "did you mean 'string'"),
        ("id: sample\nsource: { plugin: file, with: { path: a.csv } }\nschema:\n  fields:\n    - { name: a, type: date, format: \"yyyy-MM-dd hh\" }\n",
         5, 38, "unsupported"),
        ("id: sample\nsource: { plugin: file, with: { path: a.csv } }\nschema:\n  additional_fields: error\n  fields:\n    - { name: a }\ngovernance:\n  rules:\n    - drop: [b]\n",
         9, 7, "'b'"),
        ("- just\n- a list\n", 1, 1, "mapping"),
        ("id: sample\nsource: { plugin: file, with: { path: a.csv } }\ngovernance:\n  rules: {drop: a}\n", 4, 10, "list"),
        ("\t\tid: x\n", 1, 1, "invalid YAML"),
        ("id: sample\nsource: { plugin: file, with: [a] }\n", 2, 31, "mapping"),
    ]

    @Test func corpusHasAtLeastTwentySpecs() {
        #expect(Self.corpus.count >= 20)
    }

    @Test(arguments: SpecTests.corpus.indices)
    func malformedSpecGetsALocatedError(index: Int) throws {
        guard index < Self.corpus.count else { return }
        let (text, line, column, words) = Self.corpus[index]
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let diagnostics = try TestSupport.diagnostics(text, in: directory, environment: [:]).filter { $0.severity == .error }
        let first = try #require(diagnostics.first, "spec \(index) must be rejected")
        let location = try #require(first.location, "spec \(index): the error must carry a location")
        #expect(location.file.hasSuffix("spec.yaml"))
        #expect((location.line, location.column) == (line, column), "spec \(index): \(first)")
        #expect(diagnostics.contains { $0.message.contains(words) }, "spec \(index): \(diagnostics)")
        #expect(first.description.hasPrefix("\(location.file):\(line):\(column): error: "))
    }

    @Test func allErrorsAreReportedAtOnce() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let diagnostics = try TestSupport.diagnostics(
            "id: sample\ntitel: x\nowner: [a]\nsource: { plugin: file, with: { path: a.csv, delimter: ';' } }\n",
            in: directory)
        #expect(diagnostics.count == 3)
        #expect(diagnostics.map { $0.location?.line ?? 0 } == [2, 3, 4])
    }

    @Test func validSpecLoadsWithVariablesAndSecrets() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/ok.yaml"
        try TestSupport.write("""
            id: sample
            source: { plugin: file, with: { path: "${DATA_DIR}/a.csv" } }
            governance:
              rules:
                - pseudonymize: { field: phone, key: "${secret:KEY}" }
            """, to: file)
        let redactor = SecretRedactor()
        let spec = try TestSupport.spec(file, environment: ["DATA_DIR": "/data", "SDATA_SECRET_KEY": "key-material-123"],
                                        redactor: redactor)
        #expect(spec.source.options.string("path") == "/data/a.csv")
        #expect(spec.governance.rules.count == 1)
        #expect(redactor.redact("key-material-123") == "«secret:KEY»")
        #expect(spec.specHash.count == 64)
    }

    @Test func secretValuesNeverAppearInDiagnostics() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let secret = "top-secret-value-42"
        let diagnostics = try TestSupport.diagnostics("""
            id: sample
            source: { plugin: file, with: { path: "${secret:KEY}", format: "${secret:KEY}" } }
            governance:
              classification: "${secret:KEY}"
            """, in: directory, environment: ["SDATA_SECRET_KEY": secret])
        #expect(!diagnostics.isEmpty)
        for diagnostic in diagnostics { #expect(!diagnostic.description.contains(secret)) }
    }

    @Test func examplePipelinesAreValid() throws {
        let directory = TestSupport.packageRoot + "/pipelines"
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".yaml") }
        #expect(files.count >= 3)
        for file in files {
            let result = TestSupport.loader(environment: ["SDATA_SECRET_TRACING_KEY": "test-key-0123456789"])
                .load(file: directory + "/" + file)
            if case .failure(let error) = result { Issue.record("\(file): \(error)") }
        }
    }

    @Test func cronSchedulesParse() throws {
        let schedule = try CronSchedule("*/15 2-4 1,15 jan-mar mon-fri")
        #expect(schedule.minutes == [0, 15, 30, 45])
        #expect(schedule.hours == [2, 3, 4])
        #expect(schedule.daysOfMonth == [1, 15])
        #expect(schedule.months == [1, 2, 3])
        #expect(schedule.daysOfWeek == [1, 2, 3, 4, 5])
        #expect(try CronSchedule("@daily").hours == [0])
        #expect(try CronSchedule("0 0 * * 7").daysOfWeek == [0])
        #expect(throws: PatternError.self) { try CronSchedule("0 0 * * 8") }
        #expect(throws: PatternError.self) { try CronSchedule("0 5-2 * * *") }
    }
}
