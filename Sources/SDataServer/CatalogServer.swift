import Foundation
public import Hummingbird
public import Logging
import NIOCore
public import Prometheus
public import SDataCatalog
import SDataCore
import SDataPluginAPI

/// `sdata serve`: the catalog's public files over HTTP (gzip where it helps), a CKAN-compatible read-only Action API,
/// `/healthz`, Prometheus metrics at `/metrics`, and `POST /admin/runs/ID` behind a bearer token.
///
/// Static files come from `public/` through Hummingbird's file middleware, which answers conditional requests
/// (ETag, Last-Modified), byte ranges and HEAD. Only `/admin/…` changes state, and only with the token.
public enum CatalogServer {
    /// The CKAN actions answered (documented in docs/openapi.yaml).
    public static var ckanActions: [String] { CKANActions.actions }

    public struct Options: Sendable {
        public var host: String
        public var port: Int
        /// Serve the catalog's `public/` folder (off for a metrics-only listener).
        public var serveFiles: Bool
        /// The bearer token of `/admin/…` (the `ADMIN_TOKEN` secret); `nil` turns those endpoints off.
        public var adminToken: String?

        public init(host: String = "127.0.0.1", port: Int = 8080, serveFiles: Bool = true, adminToken: String? = nil) {
            self.host = host
            self.port = port
            self.serveFiles = serveFiles
            self.adminToken = adminToken
        }
    }

    /// The application, a service to run in a `ServiceGroup` (beside the scheduler, for `serve --scheduler`).
    ///   - trigger: runs a pipeline by id for `POST /admin/runs/ID`; answers a status and a JSON body.
    public static func application(catalog: Catalog, metrics: PrometheusCollectorRegistry, options: Options,
                                   logger: Logger,
                                   trigger: (@Sendable (String) async -> (Int, String))? = nil,
                                   onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: Gzip())
        let admin = router.group("admin").add(middleware: BearerGate(token: options.adminToken))
        admin.post("runs/:pipeline") { _, context -> Response in
            let pipeline = context.parameters.get("pipeline") ?? ""
            guard let trigger else { return json(404, "{\"error\":\"this server does not run pipelines\"}") }
            let (status, body) = await trigger(pipeline)
            return json(status, body)
        }
        if options.serveFiles {
            router.add(middleware: RangeGuard(root: catalog.layout.publicDirectory))
            router.add(middleware: FileMiddleware(catalog.layout.publicDirectory, searchForIndexHtml: true, logger: logger))
        }
        let store = catalog.store
        router.get("healthz") { _, _ -> Response in
            // Healthy when the store answers.
            do {
                _ = try await store.datasets()
                return Response(status: .ok, headers: [.contentType: "application/json"],
                                body: .init(byteBuffer: ByteBuffer(string: "{\"status\":\"ok\"}")))
            } catch {
                return Response(status: .serviceUnavailable, headers: [.contentType: "application/json"],
                                body: .init(byteBuffer: ByteBuffer(string: "{\"status\":\"store unavailable\"}")))
            }
        }
        let ckan = CKANActions(catalog: catalog, baseURL: (catalog.config.baseURL ?? "").trimmingSuffixSlash)
        for prefix in ["api/3/action", "api/action"] {
            router.get("\(prefix)/:action") { request, context -> Response in
                try await CatalogServer.ckan(ckan, request: request, context: context)
            }
            router.post("\(prefix)/:action") { request, context -> Response in
                try await CatalogServer.ckan(ckan, request: request, context: context)
            }
        }
        router.get("metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer())))
        }
        return Application(router: router,
                           configuration: .init(address: .hostname(options.host, port: options.port),
                                                serverName: "sdata"),
                           onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
                           logger: logger)
    }

    /// One CKAN action: parameters from the query string, and from a JSON (or form) body on POST.
    static func ckan(_ ckan: CKANActions, request: Request, context: some RequestContext) async throws -> Response {
        let action = context.parameters.get("action") ?? ""
        var parameters: [String: JSONValue] = [:]
        for (name, value) in request.uri.queryParameters {
            parameters[String(name)] = .string(String(value))
        }
        if request.method == .post {
            let body = try await request.body.collect(upTo: 1 << 20)
            let bytes = Array(body.readableBytesView)
            if bytes.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) == UInt8(ascii: "{") {
                guard case .object(let members)? = try? JSONStreamReader(bytes: bytes, label: "body").readDocument() else {
                    return json(400, "{\"success\":false,\"error\":{\"__type\":\"Bad Request\",\"message\":\"the body is not a JSON object\"}}")
                }
                for (name, value) in members { parameters[name] = value }
            } else {
                for pair in String(decoding: bytes, as: UTF8.self).split(separator: "&") {
                    let parts = pair.split(separator: "=", maxSplits: 1).map(PercentEncoding.decodeFormComponent)
                    if parts.count == 2 { parameters[parts[0]] = .string(parts[1]) }
                }
            }
        }
        let (status, text) = await ckan.answer(action, parameters)
        return json(status, text)
    }

    static func json(_ status: Int, _ text: String) -> Response {
        Response(status: .init(code: status), headers: [.contentType: "application/json;charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

extension String {
    var trimmingSuffixSlash: String {
        var text = self
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }
}
