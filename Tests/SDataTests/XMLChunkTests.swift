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
            #expect(chunk.count <= limit)
            records += (0..<chunk.count).map { chunk.record(at: $0) }
        }
        #expect(Self.same(records, Self.expected), "\(records)")
        #expect(try reader.nextChunk(limit: limit) == nil)
    }

    @Test func recordAtATimeAgreesWithChunks() throws {
        let reader = try Self.reader()
        var records: [[(String, Value)]] = []
        while let record = try reader.next() { records.append(record) }
        #expect(Self.same(records, Self.expected))
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
