import Foundation
import Testing
import SDataCore
import SDataPluginAPI
import FileSource

struct ReaderTests {
    /// All records a `file` source produces for `options`.
    static func records(_ options: [String: String], batchSize: Int = 2) async throws -> (Schema, [[String: Value]]) {
        let plugin = try FileSource(options: PluginOptions(
            descriptor: FileSource.descriptor, options.mapValues { ConfigNode.scalar($0) }))
        let stream = RecordStream()
        let context = SourceContext(baseDirectory: "/", batchSize: batchSize)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await stream.feed(from: plugin, context: context) }
            var schema = Schema()
            var rows: [[String: Value]] = []
            for try await batch in stream {
                #expect(batch.count <= batchSize)
                schema = batch.schema
                for record in batch.records {
                    #expect(record.count == batch.schema.count)
                    rows.append(Dictionary(uniqueKeysWithValues: zip(batch.schema.names, record)))
                }
            }
            return (schema, rows)
        }
    }

    @Test func csvHandlesQuotesBOMAndCRLF() async throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/a.csv"
        try TestSupport.write("\u{FEFF}id,name,note\r\n1,\"Kim, Ji\",\"said \"\"hi\"\"\"\r\n2,Lee,\"two\nlines\"\r\n3,,\r\n", to: file)
        let (schema, rows) = try await Self.records(["path": file])
        #expect(schema.names == ["id", "name", "note"])
        #expect(rows.count == 3)
        #expect(rows[0]["name"] == .string("Kim, Ji"))
        #expect(rows[0]["note"] == .string("said \"hi\""))
        #expect(rows[1]["note"] == .string("two\nlines"))
        #expect(rows[2]["name"] == .null)
    }

    @Test func csvWithOtherDelimiterAndNoHeader() async throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/a.txt"
        try TestSupport.write("a;b\nc;'d;e'\n", to: file)
        let (schema, rows) = try await Self.records(["path": file, "delimiter": ";", "quote": "'", "header": "false"])
        #expect(schema.names == ["column_1", "column_2"])
        #expect(rows.map { $0["column_2"] } == [.string("b"), .string("d;e")])
    }

    @Test(arguments: ["id,name\n1,Kim\n2", "id,name\n1,\"Kim\n", "id,name\n1,Kim,extra\n"])
    func truncatedOrRaggedCSVFails(text: String) async throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/t.csv"
        try TestSupport.write(text, to: file)
        await #expect(throws: SourceError.self) { _ = try await Self.records(["path": file]) }
    }

    @Test func xmlRecordsStreamFromSeoulShape() async throws {
        let (schema, rows) = try await Self.records(["path": TestSupport.fixtures + "/Corona19Status.1-3.xml",
                                                     "record_path": "row"])
        #expect(rows.count == 3)
        #expect(schema.names.first == "CORONA19_ID")
        #expect(rows[0]["CORONA19_AREA"] == .string("마포구"))
        #expect(rows[0]["CORONA19_NO"] == .null)
    }

    @Test func xmlPathChainsAndAttributes() async throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/a.xml"
        try TestSupport.write("""
            <?xml version="1.0" encoding="UTF-8"?>
            <root><meta><item>not a record</item></meta>
            <data><item id="7"><name>A &amp; B</name><geo><lat>37.5</lat></geo><note><![CDATA[<b>x</b>]]></note></item>
            <item id="8"><name/></item></data></root>
            """, to: file)
        let (_, rows) = try await Self.records(["path": file, "record_path": "data/item"])
        #expect(rows.count == 2)
        #expect(rows[0]["@id"] == .string("7"))
        #expect(rows[0]["name"] == .string("A & B"))
        #expect(rows[0]["geo/lat"] == .string("37.5"))
        #expect(rows[0]["note"] == .string("<b>x</b>"))
        #expect(rows[1]["name"] == .null)
    }

    @Test func xmlInLegacyKoreanEncodingIsDecoded() async throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/euc.xml"
        // "서울" in EUC-KR (0xBCAD 0xBFEF), with the encoding declared only in the prolog.
        var bytes = Array("<?xml version=\"1.0\" encoding=\"EUC-KR\"?><rows><row><city>".utf8)
        bytes += [0xBC, 0xAD, 0xBF, 0xEF]
        bytes += Array("</city></row></rows>".utf8)
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let (_, rows) = try await Self.records(["path": file, "record_path": "row"])
        #expect(rows.first?["city"] == .string("서울"))
    }

    @Test func truncatedXMLFailsWithLocation() async throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/t.xml"
        let full = try TestSupport.read(TestSupport.fixtures + "/Corona19Status.1-3.xml")
        try TestSupport.write(String(full.prefix(full.count / 2)), to: file)
        do {
            _ = try await Self.records(["path": file, "record_path": "row"])
            Issue.record("a truncated XML file must fail")
        } catch let error as SourceError {
            #expect(error.message.contains(file))
            #expect(error.message.contains("malformed XML") || error.message.contains("truncated"))
        }
    }

    @Test func jsonRecordPathArraysObjectsAndEmptyQuirks() async throws {
        let single = try await Self.records(["path": TestSupport.fixtures + "/Covid19InfStateJson.single-item.json",
                                             "record_path": "response.body.items.item"])
        #expect(single.1.count == 1)
        #expect(single.1[0]["stateDt"] == .integer(20210829))
        #expect(single.1[0]["accDefRate"] == .number(2.0285026332))
        let empty = try await Self.records(["path": TestSupport.fixtures + "/Covid19InfStateJson.empty.json",
                                            "record_path": "response.body.items.item"])
        #expect(empty.1.isEmpty)
    }

    @Test func jsonNestedObjectsFlattenAndKeysMayVary() async throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/a.json"
        try TestSupport.write(#"{"meta":{"x":[1,2]},"result":{"results":[{"a":1,"d":{"e":"f"}},{"a":2.5,"b":"\u00e9\ud83d\ude00"},{"a":null}]}}"#,
                              to: file)
        let (schema, rows) = try await Self.records(["path": file, "record_path": "result.results"], batchSize: 10)
        #expect(schema.names == ["a", "d.e", "b"])
        #expect(schema["a"]?.type == .number)
        #expect(rows[1]["b"] == .string("é😀"))
        #expect(rows[0]["b"] == .null)
    }

    @Test(arguments: [#"{"result":{"results":[{"a":1},{"a":"#, #"[{"a":1}"#, #"{"result":{"results":[{"a":1}]}"#])
    func truncatedJSONFails(text: String) async throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/t.json"
        try TestSupport.write(text, to: file)
        let path = text.hasPrefix("[") ? "" : "result.results"
        await #expect(throws: SourceError.self) {
            _ = try await Self.records(path.isEmpty ? ["path": file] : ["path": file, "record_path": path])
        }
    }

    @Test func jsonLinesReadsOneRecordPerLine() async throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/a.jsonl"
        try TestSupport.write("{\"id\":1,\"v\":\"x\"}\n\n{\"id\":2,\"v\":null}\n", to: file)
        let (_, rows) = try await Self.records(["path": file])
        #expect(rows.map { $0["id"] } == [.integer(1), .integer(2)])
        try TestSupport.write("{\"id\":1}\n{\"id\":", to: file)
        await #expect(throws: SourceError.self) { _ = try await Self.records(["path": file]) }
    }

    @Test func optionsAreValidatedEagerly() throws {
        func make(_ options: [String: String]) throws -> FileSource {
            try FileSource(options: PluginOptions(descriptor: FileSource.descriptor,
                                                  options.mapValues { ConfigNode.scalar($0) }))
        }
        #expect(throws: OptionError.self) { try make(["path": "a.xml"]) }
        #expect(throws: OptionError.self) { try make(["path": "a.csv", "delimiter": ";;"]) }
        #expect(throws: OptionError.self) { try make(["path": "a.unknown"]) }
        #expect(throws: DiagnosticsError.self) { try make(["path": "a.csv", "delimeter": ";"]) }
        #expect(try make(["path": "a.tsv"]).delimiter == 0x09)
    }
}
