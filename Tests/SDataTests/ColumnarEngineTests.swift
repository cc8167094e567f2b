import Foundation
import Testing
import Crypto
import SDataCore
import SDataGovernance
import SDataCatalog
import SDataRunner

/// The columnar engine against the row engine: the same spec over the same file must publish the same bytes, the
/// same governance report and the same errors, whatever the chunking. The row engine is the reference (it is the
/// one every other suite checks); the inputs are adversarial (quoting, CRLF, byte-order marks, blank lines,
/// full-width digits, NFD text, float ties, exponents, other datetime layouts, personal data in free text).
@Suite(.serialized)
struct ColumnarEngineTests {
    static let secrets = ["SDATA_SECRET_TEST_KEY": "columnar-test-key-1234", "SDATA_SECRET_BENCH_KEY": "bench-key"]

    struct Outcome: Equatable {
        var status: String
        var error: String?
        var rowsIn: Int
        var rowsOut: Int
        /// Each published distribution's bytes, by file name.
        var files: [String: Data]
        var report: Data?
    }

    /// Runs `spec` (YAML) over `input` with one engine in a fresh project; returns what was published.
    /// Runs `spec` (YAML) over `input` with one engine, in `project` (made when `nil`) with a catalog of its own,
    /// so that messages naming the input file are comparable between runs.
    static func run(_ spec: String, input: [UInt8], engine: PipelineRunner.Engine, chunkBytes: Int = 1 << 21,
                    in shared: String? = nil) async throws -> Outcome {
        let project = try shared ?? TestSupport.temporaryDirectory()
        defer { if shared == nil { try? FileManager.default.removeItem(atPath: project) } }
        try TestSupport.write(spec, to: project + "/spec.yaml")
        try Data(input).write(to: URL(fileURLWithPath: project + "/input.csv"))
        let catalog = try Catalog.open(root: project + "/catalog-\(UUID().uuidString)")
        let runner = TestSupport.runner(catalog, engine: engine, chunkBytes: chunkBytes)
        let loaded = try TestSupport.spec(project + "/spec.yaml", environment: secrets)
        let summary = await runner.run(loaded)
        var files: [String: Data] = [:]
        var report: Data?
        if let path = summary.versionPath {
            for distribution in summary.distributions {
                let bytes = try Data(contentsOf: URL(fileURLWithPath: catalog.layout.publicDirectory + "/" + distribution.path))
                files[(distribution.path as NSString).lastPathComponent] = bytes
                // The size and checksum recorded are those of the file (the columnar engine writes chunks from
                // several threads and checksums them on another).
                #expect(distribution.bytes == bytes.count, "\(distribution.path)")
                #expect(distribution.sha256 == SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined(),
                        "\(distribution.path)")
            }
            report = try? Data(contentsOf: URL(fileURLWithPath: path + "/governance.json"))
        }
        return Outcome(status: summary.run.status.rawValue, error: summary.run.error, rowsIn: summary.run.rowsIn,
                       rowsOut: summary.run.rowsOut, files: files, report: report)
    }

    /// Both engines over `input`; the columnar one with several chunk sizes (tiny chunks cross many boundaries and
    /// use every lane). Returns the row engine's outcome.
    @discardableResult
    static func expectSame(_ spec: String, _ input: [UInt8], chunks: [Int] = [97, 4096, 1 << 21],
                           sourceLocation: Testing.SourceLocation = #_sourceLocation) async throws -> Outcome {
        let project = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let reference = try await run(spec, input: input, engine: .row, in: project)
        for chunkBytes in chunks {
            let columnar = try await run(spec, input: input, engine: .columnar, chunkBytes: chunkBytes, in: project)
            #expect(columnar.status == reference.status, "chunk \(chunkBytes)", sourceLocation: sourceLocation)
            #expect(columnar.error == reference.error, "chunk \(chunkBytes)", sourceLocation: sourceLocation)
            #expect(columnar.rowsIn == reference.rowsIn && columnar.rowsOut == reference.rowsOut,
                    "chunk \(chunkBytes)", sourceLocation: sourceLocation)
            #expect(columnar.files.keys.sorted() == reference.files.keys.sorted(), sourceLocation: sourceLocation)
            for (name, bytes) in reference.files where columnar.files[name] != bytes {
                let row = String(decoding: bytes.prefix(3000), as: UTF8.self)
                let other = String(decoding: (columnar.files[name] ?? Data()).prefix(3000), as: UTF8.self)
                Issue.record(Comment(rawValue: "chunk \(chunkBytes): \(name) differs\n--- row\n\(row)\n--- columnar\n\(other)"),
                             sourceLocation: sourceLocation)
            }
            if columnar.report != reference.report {
                let row = String(decoding: reference.report ?? Data(), as: UTF8.self)
                let other = String(decoding: columnar.report ?? Data(), as: UTF8.self)
                Issue.record(Comment(rawValue: "chunk \(chunkBytes): governance reports differ\n--- row\n\(row)\n--- columnar\n\(other)"),
                             sourceLocation: sourceLocation)
            }
        }
        return reference
    }

    static let plainSpec = """
        id: plain
        title: plain
        source:
          plugin: file
          with: { path: input.csv }
        governance:
          rules:
            - rename: { b: bee }
        publish:
          formats: [csv]
        """

    static let tracingSpec = """
        id: tracing
        title: tracing
        source:
          plugin: file
          with: { path: input.csv }
        governance:
          classification: sensitive
          rules:
            - pseudonymize: { field: phone, key: "${secret:TEST_KEY}", length: 16, raw_key: true }
            - generalize: { field: age, band: 10 }
            - generalize: { fields: [lat, lon], decimals: 3 }
            - generalize: { field: ts, truncate: hour }
            - redact: { field: note, detect: [phone, rrn], normalize: false }
            - rename: { phone: person, age: age_band, ts: ts_hour }
            - select: [event_id, person, age_band, sex, district, lat, lon, ts_hour, source, merchant, amount, note]
            - k_anonymity: { quasi_identifiers: [age_band, sex, district, ts_hour], k: 5 }
          roles:
            event_id: public
            person: identifier
            age_band: quasi_identifier
            sex: quasi_identifier
            district: quasi_identifier
            ts_hour: quasi_identifier
            lat: geo
            lon: geo
            source: public
            merchant: public
            amount: sensitive
            note: free_text
          pii_gate: warn
        publish:
          formats: [csv, csv-excel]
        """

    /// The workload's edge fixture: the published CSV is the reference implementation's, byte for byte.
    @Test func edgeFixtureMatchesTheReferenceAndTheRowEngine() async throws {
        let input = try [UInt8](Data(contentsOf: URL(fileURLWithPath: TestSupport.fixtures + "/edge_input.csv")))
        let expected = try Data(contentsOf: URL(fileURLWithPath: TestSupport.fixtures + "/edge_expected.csv"))
        // The workload's key: `bench-key`, used as it is.
        let spec = Self.tracingSpec.replacingOccurrences(of: "${secret:TEST_KEY}", with: "${secret:BENCH_KEY}")
        let outcome = try await Self.run(spec, input: input, engine: .columnar, chunkBytes: 128)
        #expect(outcome.status == "published", "\(outcome.error ?? "")")
        #expect(outcome.files["tracing.csv"] == expected)
        try await Self.expectSame(spec, input)
    }

    /// Delimiters that the byte kernels themselves write (timestamps' `:` and `-`, decimals' `.`, hex's `a`): the
    /// kernels' values are then quoted like any other, as the row engine quotes them.
    @Test(arguments: [":", "-", ".", "a", ";"])
    func delimitersInTheKernelsOutputAreQuoted(delimiter: String) async throws {
        var generator = AdversarialCSV(seed: 21)
        let spec = Self.tracingSpec.replacingOccurrences(of: "k: 5", with: "k: 2")
            .replacingOccurrences(of: "formats: [csv, csv-excel]", with: "formats: [csv, csv-excel]\n  csv: { delimiter: \"\(delimiter)\" }")
        #expect(spec.contains("delimiter"))
        let outcome = try await Self.expectSame(spec, generator.file(rows: 200))
        #expect(outcome.status == "published", "\(outcome.error ?? "")")
        #expect(outcome.rowsOut > 0)
    }

    /// Random adversarial files through the tracing rules: identical output, report and counts.
    @Test(arguments: [1, 2, 3, 4, 5, 6])
    func randomAdversarialFilesPublishTheSameBytes(seed: UInt64) async throws {
        var generator = AdversarialCSV(seed: seed)
        let input = generator.file(rows: 300)
        let outcome = try await Self.expectSame(Self.tracingSpec.replacingOccurrences(of: "k: 5", with: "k: 2"), input)
        #expect(outcome.status == "published", "\(outcome.error ?? "")")
        #expect(outcome.rowsOut > 0)
    }

    /// Normalizing redaction with user patterns, a lookup, drop, and a PII gate that suppresses rows; pseudonyms
    /// short, odd and longer than the memo's in-slot digest.
    @Test(arguments: [11, 12, 13])
    func otherRulesAndGateSuppressionPublishTheSameBytes(seed: UInt64) async throws {
        let length = [11: 12, 12: 15, 13: 24][seed]!
        let spec = """
            id: other
            title: other
            source:
              plugin: file
              with: { path: input.csv }
            governance:
              rules:
                - drop: [name, resident_id]
                - redact: { fields: [note, merchant], detect: [mobile, landline, rrn, email], patterns: [{ pattern: "QR[0-9]+", replacement: "[QR]" }] }
                - generalize: { field: district, lookup: { 강남구: 동남권, 서초구: 동남권, 종로구: 도심권 }, unmapped: "null" }
                - pseudonymize: { fields: [phone, event_id], key: "${secret:TEST_KEY}", length: \(length), domain: test }
                - generalize: { field: age, band: 5 }
              pii_gate: suppress
            publish:
              formats: [csv]
            """
        var generator = AdversarialCSV(seed: seed)
        let outcome = try await Self.expectSame(spec, generator.file(rows: 250))
        #expect(outcome.status == "published", "\(outcome.error ?? "")")
    }

    /// A PII gate that blocks, and a k-anonymity rule that fails the run, fail both engines alike.
    @Test func gatesThatFailTheRunFailBothEnginesAlike() async throws {
        var generator = AdversarialCSV(seed: 21)
        let input = generator.file(rows: 300)
        let blocked = Self.tracingSpec.replacingOccurrences(of: "pii_gate: warn", with: "pii_gate: block")
            .replacingOccurrences(of: "k: 5", with: "k: 2")
        let outcome = try await Self.expectSame(blocked, input)
        #expect(outcome.status == "failed")
        let failing = Self.tracingSpec.replacingOccurrences(of: "k: 5 }", with: "k: 5, action: fail }")
        #expect(try await Self.expectSame(failing, input).status == "failed")
    }

    /// Malformed files: the same message, naming the file and line, from both engines.
    @Test(arguments: [
        "a,b,c\n1,2,3\n4,5\n",                       // too few fields
        "a,b,c\n1,2,3\n4,5,6,7\n8,9,10\n",           // too many
        "a,b,c\n1,2,3\n\"4,5,6\n",                   // ends inside a quoted field
        "a,a,c\n1,2,3\n",                            // a header naming a field twice
        "a,b,c\r\n1,\"x\r\ny\",3\r\n\r\n4,,\"\"\r\n",  // CRLF, a quoted line break, a blank line, null and ""
        "\u{FEFF}a,b,c\n1,2,3",                      // a byte-order mark, no final line feed
    ])
    func malformedAndUnusualFilesBehaveAlike(text: String) async throws {
        let spec = Self.plainSpec
        try await Self.expectSame(spec, Array(text.utf8), chunks: [5, 64, 4096])
    }

    /// A value a rule cannot read fails both runs with the same record number.
    @Test func unreadableValuesNameTheSameRecord() async throws {
        var text = "id,age,ts\n"
        for row in 1...40 { text += "\(row),\(row == 33 ? "old" : "4\(row % 10)"),2020-01-0\(row % 9 + 1)T10:11:12+09:00\n" }
        let spec = """
            id: ages
            title: ages
            source:
              plugin: file
              with: { path: input.csv }
            governance:
              rules:
                - generalize: { field: age, band: 10 }
                - generalize: { field: ts, truncate: day }
                - k_anonymity: { quasi_identifiers: [age], k: 2 }
            publish:
              formats: [csv]
            """
        let outcome = try await Self.expectSame(spec, Array(text.utf8), chunks: [50, 4096])
        #expect(outcome.error?.contains("record 33") == true, "\(outcome.error ?? "")")
    }

    /// Text the columnar reader does not vouch for (a quote inside an unquoted field, invalid UTF-8) goes to the row
    /// engine under `auto`, and `columnar` refuses it with the reason.
    @Test func irregularTextFallsBackToTheRowEngine() async throws {
        let spec = Self.plainSpec
        for input in [Array("a,b\n1,5\" screen\n2,x\n".utf8), Array("a,b\n1,".utf8) + [0xFF, 0xFE] + Array("\n".utf8)] {
            let reference = try await Self.run(spec, input: input, engine: .row)
            let auto = try await Self.run(spec, input: input, engine: .auto, chunkBytes: 64)
            #expect(auto == reference)
            let forced = try await Self.run(spec, input: input, engine: .columnar, chunkBytes: 64)
            #expect(forced.status == "failed")
            #expect(forced.error?.contains("the columnar engine cannot run this pipeline") == true, "\(forced.error ?? "")")
        }
        let json = spec.replacingOccurrences(of: "formats: [csv]", with: "formats: [csv, json]")
        let forced = try await Self.run(json, input: Array("a,b\n1,2\n".utf8), engine: .columnar)
        #expect(forced.error?.contains("'json' distribution") == true, "\(forced.error ?? "")")
    }

    /// A named pipe can be read once: `auto` hands it to the row engine (the columnar engine opens and maps its
    /// input twice), which publishes what the same bytes in a file publish.
    @Test func aNamedPipeIsReadByTheRowEngine() async throws {
        var generator = AdversarialCSV(seed: 11)
        let input = generator.file(rows: 200)
        let spec = Self.tracingSpec.replacingOccurrences(of: "k: 5", with: "k: 2")
        let reference = try await Self.run(spec, input: input, engine: .row)
        let project = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: project) }
        try TestSupport.write(spec, to: project + "/spec.yaml")
        let fifo = project + "/input.csv"
        #expect(mkfifo(fifo, 0o600) == 0)
        let writer = Thread {
            let descriptor = open(fifo, O_WRONLY)
            guard descriptor >= 0 else { return }
            _ = input.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            close(descriptor)
        }
        writer.start()
        let catalog = try Catalog.open(root: project + "/catalog")
        let summary = await TestSupport.runner(catalog, engine: .auto)
            .run(try TestSupport.spec(project + "/spec.yaml", environment: Self.secrets))
        #expect(summary.run.status == .published, "\(summary.run.error ?? "")")
        #expect(summary.run.rowsIn == reference.rowsIn)
        #expect(summary.run.rowsOut == reference.rowsOut)
        let published = try summary.distributions.map {
            try Data(contentsOf: URL(fileURLWithPath: catalog.layout.publicDirectory + "/" + $0.path))
        }
        #expect(published == reference.files.sorted { $0.key < $1.key }.map(\.value))
    }

    /// A write that fails mid-run (here the file size limit, `ulimit -f`, standing in for a full disk) fails the run
    /// with the path and the reason, publishes nothing and leaves no scratch file or draft behind.
    @Test func aFailedWriteFailsTheRunAndLeavesNothing() throws {
        var generator = AdversarialCSV(seed: 41)
        let input = generator.file(rows: 20_000)
        let project = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: project) }
        try TestSupport.write(Self.tracingSpec.replacingOccurrences(of: "k: 5", with: "k: 2"), to: project + "/spec.yaml")
        try Data(input).write(to: URL(fileURLWithPath: project + "/input.csv"))
        #expect(input.count > 2 << 20)
        let command = "trap '' XFSZ; ulimit -f 1024; exec \"$0\" run spec.yaml --catalog catalog --engine columnar"
        let result = try TestSupport.execute("/bin/sh", ["-c", command, TestSupport.sdataBinary], in: project,
                                             environment: Self.secrets)
        #expect(result.status != 0)
        #expect(result.stdout.contains("cannot write") || result.stderr.contains("cannot write"),
                "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("File too large") || result.stderr.contains("File too large"))
        #expect(!FileManager.default.fileExists(atPath: project + "/catalog/public/datasets/tracing"))
        let raw = (try? FileManager.default.subpathsOfDirectory(atPath: project + "/catalog/raw")) ?? []
        #expect(raw.isEmpty, "\(raw)")
        let drafts = (try? FileManager.default.contentsOfDirectory(atPath: project + "/catalog/.drafts")) ?? []
        #expect(drafts.allSatisfy { $0.hasSuffix(".lock") }, "\(drafts)")
    }

    /// Personal data inside quasi-identifier values (a phone or address typed into a district or job field): the
    /// columnar lanes decide the gate's quick test once per distinct quasi-identifier value, and must still scan
    /// every value that holds something, in every row it appears in, as the row engine does, whether the gate
    /// suppresses or blocks.
    @Test(arguments: ["suppress", "block"])
    func personalDataInQuasiIdentifiersIsGated(mode: String) async throws {
        let spec = """
            id: qi
            title: qi
            source:
              plugin: file
              with: { path: input.csv }
            governance:
              rules:
                - generalize: { field: age, band: 10 }
                - k_anonymity: { quasi_identifiers: [district, job, age], k: 2 }
              pii_gate: \(mode)
            publish:
              formats: [csv]
            """
        let districts = ["강남구", "종로구", "010-2345-6789", "Mapo", "call 02-123-4567", "Mapo", "서초구"]
        let jobs = ["clerk", "kim@example.org", "nurse", "clerk", "１０.１.２.３", "driver", "fe80::1"]
        var text = "id,district,job,age\n"
        for row in 1 ... 400 {
            text += "\(row),\(districts[row % districts.count]),\(jobs[row * 3 % jobs.count]),\(20 + row % 3)\n"
        }
        let outcome = try await Self.expectSame(spec, Array(text.utf8))
        #expect(outcome.status == (mode == "block" ? "failed" : "published"), "\(outcome.error ?? "")")
        for published in outcome.files.values {
            let csv = String(decoding: published, as: UTF8.self)
            for secret in ["2345-6789", "123-4567", "kim@", "fe80", "１０.１"] { #expect(!csv.contains(secret), "\(secret)") }
            #expect(csv.contains("clerk"))
        }
    }

    /// Classes counted through the lanes' dense class index and its table fallback: the first chunk shows a few
    /// values of each quasi-identifier, later chunks many more (ids beyond the index's digits) and the early ones
    /// again; the classes and what k-anonymity keeps are the row engine's, whatever the chunking.
    @Test func classesOfValuesSeenLateCountLikeTheRowEngine() async throws {
        var text = "event_id,age,sex,district,ts\n"
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        for row in 0 ..< 3000 {
            // Few values at first, then the full ranges; a skewed draw so that some classes reach k and others not.
            let early = row < 40
            let age = early ? next(3) : min(next(100), next(100))
            let sex = early ? "F" : ["F", "M", "X", ""][next(4)]
            let district = early ? "중구" : ["중구", "종로구", "강남구", "서초구", "마포구", "Cafe\u{301}구"][min(next(6), next(6))]
            let hour = early ? 1 : next(30)
            text += "\(row),\(age),\(sex),\(district),2020-11-0\(1 + hour / 24)T\(String(format: "%02d", hour % 24)):17:00+09:00\n"
        }
        let spec = """
            id: late
            title: late
            source:
              plugin: file
              with: { path: input.csv }
            governance:
              rules:
                - generalize: { field: age, band: 10 }
                - generalize: { field: ts, truncate: hour }
                - k_anonymity: { quasi_identifiers: [age, sex, district, ts], k: 3 }
            publish:
              formats: [csv]
            """
        let outcome = try await Self.expectSame(spec, Array(text.utf8), chunks: [97, 600, 4096, 1 << 21])
        #expect(outcome.status == "published", "\(outcome.error ?? "")")
        #expect(outcome.rowsOut > 100 && outcome.rowsOut < 3000, "\(outcome.rowsOut)")
    }

    /// Each lane's first chunk shows every value of each quasi-identifier but only a few of their combinations; the
    /// rest are first seen later, each in several rows (their keys fit the lane's dense class index, which alone
    /// records them). Their classes and what k-anonymity keeps are the row engine's, whatever the chunking.
    @Test func classesFirstSeenLateFromKnownValuesCountLikeTheRowEngine() async throws {
        var text = "id,a,b\n"
        var generator = SplitMix(seed: 20261207)
        func next(_ bound: Int) -> Int { Int.random(in: 0 ..< bound, using: &generator) }
        let values = ["v0", "v1", "v2", "v3", "v4"]
        // The diagonal first, long enough to fill each lane's first chunk at every chunk size below.
        for row in 0 ..< 60 { text += "\(row),\(values[row % 5]),\(values[row % 5])\n" }
        for row in 60 ..< 1500 {
            // Skewed, so that some combinations reach k and others stay below it.
            let a = min(next(5), next(5)), b = min(next(5), next(5))
            text += "\(row),\(values[a]),\(values[(a + 1 + b % 4) % 5])\n"
        }
        let spec = """
            id: combinations
            title: combinations
            source:
              plugin: file
              with: { path: input.csv }
            governance:
              rules:
                - k_anonymity: { quasi_identifiers: [a, b], k: 40 }
            publish:
              formats: [csv]
            """
        let outcome = try await Self.expectSame(spec, Array(text.utf8), chunks: [97, 300, 1 << 21])
        #expect(outcome.status == "published", "\(outcome.error ?? "")")
        #expect(outcome.rowsOut > 500 && outcome.rowsOut < 1440, "\(outcome.rowsOut)")
    }

    /// Raw personal data never reaches the run's folders after a columnar run: the stage is encrypted and destroyed,
    /// the published file holds pseudonyms.
    @Test func noRawPhoneSurvivesAColumnarRun() async throws {
        var generator = AdversarialCSV(seed: 31)
        let input = generator.file(rows: 400)
        let project = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: project) }
        try TestSupport.write(Self.tracingSpec.replacingOccurrences(of: "k: 5", with: "k: 2"), to: project + "/spec.yaml")
        try Data(input).write(to: URL(fileURLWithPath: project + "/input.csv"))
        let catalog = try Catalog.open(root: project + "/catalog")
        let summary = await TestSupport.runner(catalog, engine: .columnar, chunkBytes: 512)
            .run(try TestSupport.spec(project + "/spec.yaml", environment: Self.secrets))
        #expect(summary.run.status == .published, "\(summary.run.error ?? "")")
        #expect(summary.run.rowsOut > 0)
        let everything = TestSupport.allText(under: project + "/catalog")
        for phone in generator.plainPhones.prefix(50) { #expect(!everything.contains(phone)) }
    }
}

extension ColumnarEngineTests {
    /// A run that keeps its raw extract (raw retention) stages every chunk, sealed; the governed rows pass 2 read
    /// are gone once it is done. A run that destroys its extract never writes it.
    @Test(arguments: [true, false])
    func theRawStageIsWrittenOnlyWhenKept(kept: Bool) async throws {
        var generator = AdversarialCSV(seed: 7)
        let input = generator.file(rows: 300)
        let project = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let spec = Self.tracingSpec.replacingOccurrences(of: "k: 5", with: "k: 2")
            .replacingOccurrences(of: "  pii_gate: warn", with: kept ? "  pii_gate: warn\n  retention: { raw: 14d }" : "  pii_gate: warn")
        try TestSupport.write(spec, to: project + "/spec.yaml")
        try Data(input).write(to: URL(fileURLWithPath: project + "/input.csv"))
        let catalog = try Catalog.open(root: project + "/catalog")
        let summary = await TestSupport.runner(catalog, engine: .columnar, chunkBytes: 700)
            .run(try TestSupport.spec(project + "/spec.yaml", environment: Self.secrets))
        #expect(summary.run.status == .published, "\(summary.run.error ?? "")")
        let raw = catalog.layout.rawRunDirectory(summary.run.id)
        let files = (try? FileManager.default.contentsOfDirectory(atPath: raw)) ?? []
        #expect(!files.contains { $0.hasSuffix(".governed") }, "\(files)")
        if kept {
            let size = (try FileManager.default.attributesOfItem(atPath: raw + "/extract.stage")[.size] as? Int) ?? 0
            #expect(size > input.count, "the sealed chunks hold the whole extract")
            let stage = try Data(contentsOf: URL(fileURLWithPath: raw + "/extract.stage"))
            for phone in generator.plainPhones.prefix(20) { #expect(stage.range(of: Data(phone.utf8)) == nil) }
        } else {
            #expect(!FileManager.default.fileExists(atPath: raw + "/extract.stage"))
        }
    }
}

/// Seeded CSV in the tracing layout, with every trap the columnar kernels must get right or hand over.
struct AdversarialCSV {
    private var state: UInt64
    private(set) var plainPhones: [String] = []

    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }

    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }

    mutating func pick<T>(_ choices: [T]) -> T { choices[Int(next() % UInt64(choices.count))] }
    mutating func chance(_ percent: UInt64) -> Bool { next() % 100 < percent }
    mutating func digits(_ count: Int) -> String { (0..<count).map { _ in String(next() % 10) }.joined() }

    mutating func file(rows: Int) -> [UInt8] {
        let crlf = chance(30)
        let end = crlf ? "\r\n" : "\n"
        var text = chance(20) ? "\u{FEFF}" : ""
        text += "event_id,name,resident_id,phone,age,sex,district,lat,lon,ts,source,merchant,amount,note" + end
        // Few distinct quasi-identifier values, so that classes of several rows form.
        for row in 1...rows {
            if chance(2) { text += end }  // a blank line
            let fields = [
                String(row),
                pick(["김철수", "이영희", "", "O'Brien, Pat", "\"Q\" Lee"]),
                digits(6) + "-" + digits(7),
                phone(),
                pick(["34", "7", "007", "+5", "-3", "99", "100", "12.5", "1e1", "", "35", "38"]),
                pick(["M", "F", "", "M"]),
                pick(["강남구", "서초구", "종로구", "강남구".decomposedStringWithCanonicalMapping, "중구"]),
                number(base: "37."),
                number(base: "126."),
                timestamp(),
                pick(["card", "telecom", "qr"]),
                pick(["", "편의점", "Café \"Blue\", Seoul", "GS25"]),
                pick(["", "12000", "3,500", "-1"]),
                note(),
            ]
            var quoted: [String] = []
            // `""` is the empty string, not null: only text columns get it (a rule reading a number would fail).
            for (column, field) in fields.enumerated() { quoted.append(quote(field, emptyToo: [1, 11, 13].contains(column))) }
            text += quoted.joined(separator: ",")
            if row < rows || chance(50) { text += end }
        }
        return Array(text.utf8)
    }

    mutating func quote(_ field: String, emptyToo: Bool) -> String {
        let needs = field.contains(",") || field.contains("\"") || field.contains("\n") || field.contains("\r")
        guard needs || (chance(10) && !field.isEmpty) || (field.isEmpty && emptyToo && chance(5)) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    mutating func phone() -> String {
        let plain = "010-" + digits(4) + "-" + digits(4)
        plainPhones.append(plain)
        return pick([plain, plain, "010" + digits(8), "", "０１０-" + digits(4) + "-" + digits(4), plain])
    }

    mutating func number(base: String) -> String {
        switch next() % 12 {
        case 0: return base + "5625"        // exact tie at 3 decimals: to even
        case 1: return base + "9995"        // the binary value is below the decimal tie
        case 2: return base + "9996"
        case 3: return base + digits(6)
        case 4: return "3.7" + digits(3) + "e1"
        case 5: return ""
        case 6: return "-0.0005"
        case 7: return base + digits(18)
        case 8: return base.dropLast() + ""   // an integer
        case 9: return "+" + base + digits(2)
        default: return base + digits(4)
        }
    }

    mutating func timestamp() -> String {
        let day = pick(["01", "02", "29", "31", "15"]), hour = pick(["00", "09", "23", "14"])
        let minute = digits(1) + digits(1) == "" ? "00" : pick(["05", "59", "30"])
        switch next() % 8 {
        case 0: return "2020-01-\(day)T\(hour):\(minute):07Z"
        case 1: return "2020-01-\(day)T\(hour):\(minute):07.250+09:00"
        case 2: return "2020-01-\(day)"
        case 3: return "2020-01-\(day) \(hour):\(minute)"
        case 4: return "2020-01-\(day)T\(hour):\(minute):07-05:30"
        default: return "2020-01-\(day)T\(hour):\(minute):07+09:00"
        }
    }

    mutating func note() -> String {
        pick([
            "", "", "", "마스크 착용 확인", "연락처 010-\(digits(4))-\(digits(4)) 기재", "０１０-\(digits(4))－\(digits(4))",
            "주민번호 \(digits(6))-\(digits(7)) 확인", "0101234567890", "9010-1234-5678", "010--1234-5678",
            "메일 kim\(digits(2))@example.kr", "직원 진술: \"손님이 기침을 함\"", "여러 줄\n메모", "QR\(digits(5)) 인증",
            "IP 10.0.\(digits(1)).1", "대표번호 02-\(digits(3))-\(digits(4)) 로 문의", "９００１０１-１２３４５６７",
            "010\u{200B}1234\u{200B}5678", "공백 010 1234 5678",
        ])
    }
}

