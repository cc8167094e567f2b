import SDataCore
public import SDataPluginAPI

extension HTTPReply {
    /// The kind of document a body holds, judged by its first non-blank byte (after a UTF-8 BOM): APIs answer in
    /// XML when JSON was asked for (data.go.kr's gateway errors), so the body decides, not the request.
    public enum DocumentKind: Sendable { case json, xml, other }

    public var documentKind: DocumentKind {
        var index = body.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        while index < body.count, [0x20, 0x09, 0x0A, 0x0D].contains(body[index]) { index += 1 }
        guard index < body.count else { return .other }
        switch body[index] {
        case UInt8(ascii: "<"): return .xml
        case UInt8(ascii: "{"), UInt8(ascii: "["): return .json
        default: return .other
        }
    }

    /// The whole body as a tree (XML read as in ``XMLRecordReader/readDocument()``). A body that does not parse is
    /// a retryable error, since a page cut short by the network looks exactly like that.
    public func document() throws(SourceError) -> JSONValue {
        switch documentKind {
        case .json:
            do {
                return try JSONStreamReader(bytes: body, label: origin).readDocument()
            } catch {
                throw SourceError(error.message + " (truncated?)", retryable: true)
            }
        case .xml:
            return try XMLRecordReader(bytes: body, label: origin, recordPath: "").readDocument()
        case .other:
            throw SourceError("\(origin): HTTP \(status) with a body that is neither JSON nor XML\(snippet)",
                              retryable: body.isEmpty)
        }
    }

    /// A short non-structured body (`Unexpected errors`) quoted in errors; longer bodies are never shown.
    var snippet: String {
        let text = self.text.trimmingWhitespace()
        guard !text.isEmpty, text.count <= 80, !text.contains("\n") else { return "" }
        return ": '\(text)'"
    }
}

extension HTTPReply {
    /// The body as a tree, for APIs that answer errors in envelopes: when the body does not parse, a non-2xx status
    /// is the better error to report.
    public func envelope() throws -> JSONValue {
        do {
            return try document()
        } catch {
            try requireSuccess()
            throw error
        }
    }
}

/// Keeps a paged extraction honest against the total the API announces: every row exactly once, or an error.
public struct PageTally: Sendable {
    /// The total announced by the first page.
    public private(set) var total: Int?
    /// What a row is called in messages (`rows`, `items`, `records`).
    let noun: String

    public init(noun: String = "rows") { self.noun = noun }

    /// True while more pages are needed: no page seen yet, or fewer than the total received.
    public func wantsMore(received: Int) -> Bool { total.map { received < $0 } ?? true }

    /// Takes a page's announced `total` and its row count; returns false when the extraction is complete (an empty
    /// page after every row). Throws when the total moves (the source is being updated mid-extraction: retryable)
    /// or a page comes back empty before the total was reached (nothing may be published from that).
    public mutating func accept(total announced: Int, rows: Int, received: Int, place: String) throws -> Bool {
        if let known = total, known != announced {
            throw SourceError("\(place): the total changed from \(known) to \(announced) \(noun) during the extraction; "
                              + "the source is being updated, try again later", retryable: true)
        }
        total = announced
        guard rows == 0 else { return true }
        guard received >= announced else {
            throw SourceError("\(place) came back empty after \(received) of \(announced) \(noun); nothing is published "
                              + "from an incomplete extraction")
        }
        return false
    }
}
