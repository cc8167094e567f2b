import ArgumentParser
import Foundation
import Logging
import SDataCore
import SDataCatalog
import SDataRunner
import SDataSpec
import SDataServer
import ServiceLifecycle

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the catalog over HTTP: its public files, /healthz and /metrics; optionally the scheduler too.",
        discussion: """
            Files under the catalog's public/ folder are served with ETag, Last-Modified, byte ranges and HEAD. \
            /healthz answers 200 while the catalog store answers. /metrics is in Prometheus text format: runs by \
            pipeline and outcome, run durations, rows in/out/suppressed, HTTP requests and retries per source, \
            the time of each pipeline's last success. With --scheduler, pipelines also run on their schedules in \
            this process (see 'sdata schedule'). POST /admin/runs/ID runs a pipeline now; it needs \
            'Authorization: Bearer TOKEN' with the ADMIN_TOKEN secret, and is off without one. The CKAN-compatible \
            API answers at /api/3/action/NAME. SIGTERM or SIGINT shuts down gracefully.
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
        let adminToken = try global.variables(redactor: redactor).secret(named: "ADMIN_TOKEN")
        let runner = PipelineRunner(catalog: catalog, redactor: redactor, logger: Logger(label: "sdata.run"))
        let loader = try global.loader(redactor: redactor)
        let trigger: @Sendable (String) async -> (Int, String) = { id in
            // Specs are read at each request: an edited spec takes effect without a restart.
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: "pipelines")) ?? [])
                .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.map { "pipelines/" + $0 }
            for file in files {
                guard case .success(let spec) = loader.load(file: file), spec.id == id else { continue }
                logger.notice("run requested over HTTP", metadata: ["pipeline": "\(id)"])
                let summary = await runner.run(spec)
                let body = (try? JSONEncoder.sdata.encode(summary)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
                return (summary.run.status == .skipped ? 409 : 200, body)
            }
            return (404, "{\"error\":\"no valid spec in pipelines/ has id \(id.debugDescription)\"}")
        }
        var services: [any Service] = [CatalogServer.application(
            catalog: catalog, metrics: registry, options: .init(host: host, port: port, adminToken: adminToken),
            logger: logger, trigger: trigger,
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
