import Foundation
import Hummingbird
import NIOCore

/// Answers a byte range that starts past the end of a file with 416 and `Content-Range: bytes */SIZE` (RFC 9110
/// §14.4), before the file middleware sees it: left to itself, it answers such a range with a malformed 206.
struct RangeGuard<Context: RequestContext>: RouterMiddleware {
    let root: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .get || request.method == .head,
              let range = request.headers[.range], range.hasPrefix("bytes=") else {
            return try await next(request, context)
        }
        let path = request.uri.path
        guard !path.contains(".."), let decoded = path.removingPercentEncoding, !decoded.contains("..") else {
            return try await next(request, context)
        }
        var file = root + decoded
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), isDirectory.boolValue {
            file += (file.hasSuffix("/") ? "" : "/") + "index.html"
        }
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: file),
              let size = (attributes[.size] as? NSNumber)?.intValue else {
            return try await next(request, context)
        }
        // Every range in the set must start inside the file; a suffix range (`-N`) always can.
        let specs = range.dropFirst("bytes=".count).split(separator: ",")
        let starts = specs.compactMap { spec -> Int? in
            let parts = spec.trimmingCharacters(in: .whitespaces).split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty else { return nil }
            return Int(parts[0])
        }
        if !starts.isEmpty, starts.allSatisfy({ $0 >= size }) {
            return Response(status: .rangeNotSatisfiable, headers: [.contentRange: "bytes */\(size)"],
                            body: .init(byteBuffer: ByteBuffer()))
        }
        return try await next(request, context)
    }
}
