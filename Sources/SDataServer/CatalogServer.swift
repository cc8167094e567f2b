import Foundation
public import Hummingbird
public import Logging
import NIOCore
public import Prometheus
public import SDataCatalog

/// `sdata serve`: the catalog's public files over HTTP, `/healthz`, and Prometheus metrics at `/metrics`.
///
/// Static files come from `public/` through Hummingbird's file middleware, which answers conditional requests
/// (ETag, Last-Modified), byte ranges and HEAD. Nothing here changes state.
public enum CatalogServer {
    public struct Options: Sendable {
        public var host: String
        public var port: Int
        /// Serve the catalog's `public/` folder (off for a metrics-only listener).
        public var serveFiles: Bool

        public init(host: String = "127.0.0.1", port: Int = 8080, serveFiles: Bool = true) {
            self.host = host
            self.port = port
            self.serveFiles = serveFiles
        }
    }

    /// The application, a service to run in a `ServiceGroup` (beside the scheduler, for `serve --scheduler`).
    public static func application(catalog: Catalog, metrics: PrometheusCollectorRegistry, options: Options,
                                   logger: Logger,
                                   onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        -> some ApplicationProtocol {
        let router = Router()
        if options.serveFiles {
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
}
