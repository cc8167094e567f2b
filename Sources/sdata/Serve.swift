import ArgumentParser
import Foundation
import Logging
import SDataCore
import SDataCatalog
import SDataServer
import ServiceLifecycle

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the catalog over HTTP: its public files, /healthz and /metrics; optionally the scheduler too.",
        discussion: """
            Files under the catalog's public/ folder are served with ETag, Last-Modified, byte ranges and HEAD. \
            /healthz answers 200 while the catalog store answers. /metrics is in Prometheus text format: runs by \
            pipeline and outcome, run durations, rows in/out/suppressed, HTTP requests and retries per source, \
            the time of each pipeline's last success. With --scheduler, pipelines also run on their schedules in \
            this process (see 'sdata schedule'). SIGTERM or SIGINT shuts down gracefully.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("The address to bind.", valueName: "host"))
    var host = "127.0.0.1"

    @Option(help: ArgumentHelp("The port to listen on.", valueName: "port"))
    var port = 8080

    @Flag(help: "Run the scheduler in this process as well.")
    var scheduler = false

    @OptionGroup var scheduling: SchedulingOptions

    @Argument(help: ArgumentHelp("With --scheduler: spec files or folders (default: pipelines/*.yaml).", valueName: "spec"))
    var specs: [String] = []

    func run() async throws {
        let redactor = SecretRedactor()
        global.bootstrapLogging(redactor: redactor)
        let registry = Metrics.bootstrap()
        let catalog = try global.openCatalog()
        let logger = Logger(label: "sdata.serve")
        var services: [any Service] = [CatalogServer.application(
            catalog: catalog, metrics: registry, options: .init(host: host, port: port), logger: logger,
            onServerRunning: { port in
                logger.notice("serving \(catalog.layout.publicDirectory) at http://\(host):\(port)/")
            })]
        if scheduler {
            let loaded = try SpecFiles.loadValid(specs, global: global, redactor: redactor, action: "scheduling")
            services.append(try await scheduling.scheduler(specs: loaded, catalog: catalog, global: global,
                                                           redactor: redactor))
        }
        try await ServiceRunner.run(services)
    }
}
