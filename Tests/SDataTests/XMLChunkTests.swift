import Foundation
import Testing
import SDataCore
import SDataPluginAPI

/// The XML reader hands records over as byte chunks decoded on the consumer's side: whatever the chunk size, the
/// records must be the ones the document holds, field by field.
struct XMLChunkTests {
    static let document = """
        <?xml version="1.0" encoding="UTF-8"?>
        <feed xmlns="urn:x" xmlns:g="urn:g"><item>skip</item>
        <rows>
          <row id="1" g:kind="a"><name>Kim &amp; Lee</name><note>one<!-- c --> two<![CDATA[ <three>]]></note>
            <geo src="gps"><lat>37.5</lat><lon/></geo>mixed text<empty></empty></row>
          <row id=""><name>  </name>loose<tag k="v"/></row>
          <row>값</row>
          <row lang="ko">서울</row>
        </rows></feed>
        """

    static let expected: [[(String, Value)]] = [
        [("@id", .string("1")), ("@kind", .string("a")), ("name", .string("Kim & Lee")), ("note", .string("one two <three>")),
         ("geo@src", .string("gps")), ("geo/lat", .string("37.5")), ("geo/lon", .null), ("empty", .null)],
        [("@id", .null), ("name", .string("  ")), ("tag@k", .string("v")), ("tag", .null)],
        [("value", .string("값"))],
        [("value", .string("서울")), ("@lang", .string("ko"))],
    ]

    static func reader() throws -> XMLRecordReader {
        try XMLRecordReader(bytes: Array(document.utf8), label: "feed.xml", recordPath: "rows/row")
    }

    static func same(_ lhs: [[(String, Value)]], _ rhs: [[(String, Value)]]) -> Bool {
        lhs.count == rhs.count && zip(lhs, rhs).allSatisfy { a, b in
            a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        }
    }

    @Test(arguments: [1, 2, 3, 100])
    func chunksHoldTheDocumentsRecords(limit: Int) throws {
        let reader = try Self.reader()
        var records: [[(String, Value)]] = []
        while let chunk = try reader.nextChunk(limit: limit) {
            records += (0..<chunk.count).map { chunk.record(at: $0) }
        }
        #expect(Self.same(records, Self.expected), "\(records)")
        #expect(try reader.nextChunk(limit: limit) == nil)
    }

    /// A document of many input blocks: records straddle the blocks the parser is fed, and every field must come
    /// through whole, whatever the chunk size.
    @Test(arguments: [1, 7, 1000])
    func recordsAcrossInputBlocksComeThroughWhole(limit: Int) throws {
        var document = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response><body><items>\n"
        var expected: [[(String, Value)]] = []
        for index in 0..<6000 {
            let name = String(repeating: "가나다", count: 1 + index % 13) + " & \(index)"
            let escaped = name.replacingOccurrences(of: "&", with: "&amp;")
            document += "<item n=\"\(index) &amp; up\"><name>\(escaped)</name><geo><lat>37.\(index)</lat></geo>"
                + (index % 3 == 0 ? "<note/>" : "<note>메모 \(index)</note>") + "</item>\n"
            expected.append([("@n", .string("\(index) & up")), ("name", .string(name)),
                             ("geo/lat", .string("37.\(index)")), ("note", index % 3 == 0 ? .null : .string("메모 \(index)"))])
        }
        document += "</items></body></response>\n"
        #expect(document.utf8.count > 8 << 16)
        let reader = try XMLRecordReader(bytes: Array(document.utf8), label: "big.xml", recordPath: "item")
        var records: [[(String, Value)]] = []
        while let chunk = try reader.nextChunk(limit: limit) {
            #expect(chunk.count >= limit || records.count + chunk.count == expected.count)
            records += (0..<chunk.count).map { chunk.record(at: $0) }
        }
        #expect(records.count == expected.count)
        #expect(Self.same(records, expected))
    }

    @Test func recordAtATimeAgreesWithChunks() throws {
        let reader = try Self.reader()
        var records: [[(String, Value)]] = []
        while let record = try reader.next() { records.append(record) }
        #expect(Self.same(records, Self.expected))
    }

    /// External entities are never loaded (no file contents in a record), and nested internal entities are not
    /// expanded into a billion laughs.
    @Test func entitiesAreNotExpanded() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try TestSupport.write("SECRET-FILE-CONTENT", to: directory + "/secret.txt")
        var laughs = "<!ENTITY l0 \"ha\">"
        for level in 1...9 { laughs += "<!ENTITY l\(level) \"" + String(repeating: "&l\(level - 1);", count: 10) + "\">" }
        let document = """
            <?xml version="1.0"?>
            <!DOCTYPE rows [<!ENTITY x SYSTEM "file://\(directory)/secret.txt">\(laughs)]>
            <rows><row><a>&x;</a><b>&l9;</b><c>kept</c></row></rows>
            """
        let reader = try XMLRecordReader(bytes: Array(document.utf8), label: "e.xml", recordPath: "row")
        var texts: [String] = []
        do {
            while let chunk = try reader.nextChunk(limit: 10) {
                for index in 0..<chunk.count { texts += chunk.record(at: index).map { $0.1.text } }
            }
        } catch {
            // Refusing the document is fine too; leaking the file or expanding the laughs is not.
            #expect(!error.message.contains("SECRET"))
        }
        #expect(!texts.joined().contains("SECRET"))
        #expect(texts.joined().count < 1000)
    }

    @Test func aBrokenDocumentFailsWithItsLine() throws {
        let broken = Self.document.replacingOccurrences(of: "<lat>37.5</lat>", with: "<lat>37.5</lon>")
        let reader = try XMLRecordReader(bytes: Array(broken.utf8), label: "feed.xml", recordPath: "row")
        #expect {
            while try reader.nextChunk(limit: 10) != nil {}
        } throws: { error in
            (error as? SourceError)?.message.hasPrefix("feed.xml:5: malformed XML") == true
        }
    }
}
