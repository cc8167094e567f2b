import CompressNIO
import Foundation
import Hummingbird
import NIOCore

/// gzip for text-like answers (HTML, CSV, JSON, XML) to clients that accept it. Ranged requests, HEAD, answers that
/// are already encoded and bodies over 32 MiB (streamed as they are, not held in memory) are left alone.
struct Gzip<Context: RequestContext>: RouterMiddleware {
    static var compressible: [String] { ["text/", "json", "xml", "csv", "javascript", "svg"] }
    static var limit: Int { 32 << 20 }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let response = try await next(request, context)
        guard request.method == .get, request.headers[.range] == nil,
              request.headers[.acceptEncoding]?.lowercased().contains("gzip") == true,
              response.status == .ok, response.headers[.contentEncoding] == nil,
              let type = response.headers[.contentType], Gzip.compressible.contains(where: { type.contains($0) }),
              let length = response.headers[.contentLength].flatMap(Int.init), length > 256, length <= Gzip.limit else {
            return response
        }
        let collector = Collector()
        try await response.body.write(collector)
        var plain = collector.buffer
        let compressed = try plain.compress(with: .gzip())
        var headers = response.headers
        headers[.contentEncoding] = "gzip"
        headers[.contentLength] = String(compressed.readableBytes)
        headers[.vary] = "Accept-Encoding"
        return Response(status: response.status, headers: headers, body: .init(byteBuffer: compressed))
    }
}

private final class Collector: ResponseBodyWriter, @unchecked Sendable {
    var buffer = ByteBuffer()
    func write(_ part: ByteBuffer) async throws {
        var part = part
        buffer.writeBuffer(&part)
    }
    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

/// Endpoints that change state (`/admin/…`) need `Authorization: Bearer TOKEN`, the token being the catalog's
/// `ADMIN_TOKEN` secret; without a configured token they are off (403). Compared in constant time.
struct BearerGate<Context: RequestContext>: RouterMiddleware {
    let token: String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token, !token.isEmpty else {
            return CatalogServer.json(403, "{\"error\":\"admin endpoints are off: set the ADMIN_TOKEN secret to enable them\"}")
        }
        let given = request.headers[.authorization] ?? ""
        let expected = "Bearer " + token
        guard BearerGate.equal(Array(given.utf8), Array(expected.utf8)) else {
            var response = CatalogServer.json(401, "{\"error\":\"a valid bearer token is required\"}")
            response.headers[.wwwAuthenticate] = "Bearer realm=\"sdata\""
            return response
        }
        return try await next(request, context)
    }

    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}
