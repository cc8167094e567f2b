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
