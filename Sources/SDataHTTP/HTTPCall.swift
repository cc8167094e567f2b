import SDataCore
public import SDataPluginAPI

/// One request a plugin wants made. The runtime adds retries, the rate limit, timeouts and conditional headers.
public struct HTTPCall: Sendable {
    public enum Method: String, Sendable { case get = "GET", post = "POST", head = "HEAD" }

    public var method: Method
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]?
    /// What the request is for, in errors and logs (`page 3`); the URL is added, redacted.
    public var label: String

    public init(_ method: Method = .get, url: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
                label: String = "request") {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.label = label
    }
}

/// A response whose body was read in full (API pages); for large documents see ``HTTPFetcher/download(_:to:)``.
public struct HTTPReply: Sendable {
    public let status: Int
    public let headers: [(String, String)]
    public let body: [UInt8]
    /// The request's URL with secrets masked: the only form of it that may appear in a message.
    public let shownURL: String
    public let label: String

    public init(status: Int, headers: [(String, String)], body: [UInt8], shownURL: String, label: String) {
        self.status = status
        self.headers = headers
        self.body = body
        self.shownURL = shownURL
        self.label = label
    }

    /// The first header named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.0.lowercased() == lower }?.1
    }

    /// Where this response came from, for error messages: `page 3 (GET http://…/***/json/…)`.
    public var origin: String { "\(label) (\(shownURL))" }

    /// Throws unless the status is 2xx; the message names the request and the status, never the body.
    public func requireSuccess() throws(SourceError) {
        guard (200..<300).contains(status) else {
            throw SourceError("\(origin): HTTP \(status)\(HTTPReply.reason(status).map { " \($0)" } ?? "")")
        }
    }

    /// The body as text; bodies are UTF-8 unless an XML prolog says otherwise, which the XML reader handles.
    public var text: String { String(decoding: body, as: UTF8.self) }

    static func reason(_ status: Int) -> String? {
        switch status {
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 408: "Request Timeout"
        case 410: "Gone"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: nil
        }
    }
}

/// Builds URLs with strictly percent-encoded query values.
public enum URLText {
    /// `base` with `parameters` appended as a query (after any query `base` already has). A value marked
    /// `preEncoded` is used as it is: a key the portal issued in its "encoded" form must not be encoded twice.
    public static func with(_ base: String, query parameters: [(String, String)], preEncoded: Set<String> = []) -> String {
        guard !parameters.isEmpty else { return base }
        let query = parameters.map { name, value in
            PercentEncoding.encode(name) + "=" + (preEncoded.contains(name) ? value : PercentEncoding.encode(value))
        }.joined(separator: "&")
        return base + (base.contains("?") ? (base.hasSuffix("?") || base.hasSuffix("&") ? "" : "&") : "?") + query
    }

    /// One path segment, encoded (a key or a filter that sits in the path).
    public static func segment(_ value: String) -> String { PercentEncoding.encode(value) }

    /// `reference` resolved against `base` when it is relative (`/api/next?page=2` or `?page=2`).
    public static func resolve(_ reference: String, against base: String) -> String {
        if reference.hasPrefix("http://") || reference.hasPrefix("https://") { return reference }
        guard let schemeEnd = base.firstRange(of: "://") else { return reference }
        let afterScheme = base[schemeEnd.upperBound...]
        let hostEnd = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? afterScheme.endIndex
        let origin = String(base[..<hostEnd])
        if reference.hasPrefix("/") { return origin + reference }
        let pathPart = base[..<(base.firstIndex(of: "?") ?? base.endIndex)]
        if reference.hasPrefix("?") { return pathPart + reference }
        let directory = pathPart.lastIndex(of: "/").map { String(pathPart[...$0]) } ?? origin + "/"
        return directory + reference
    }
}
