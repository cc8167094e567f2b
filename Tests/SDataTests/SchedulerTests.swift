import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import SDataCatalog

/// The scheduler as operators run it: real `sdata schedule` processes against one catalog, stopped by signals and
/// killed outright, and the metrics they serve.
@Suite(.serialized) struct SchedulerTests {
    /// A project whose pipelines `slow-N` fire on `schedule` (every minute by default) and take about `seconds` to
    /// extract (a tap that sleeps).
    static func project(pipelines: Int, seconds: Double = 3, schedule: String = "* * * * *") throws -> String {
        let directory = try TestSupport.temporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory + "/pipelines", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + "/catalog", withIntermediateDirectories: true)
        let records = 30
        for index in 1...pipelines {
            try TestSupport.write("""
                id: slow-\(index)
                schedule: "\(schedule)"
                source:
                  plugin: singer
                  with:
                    command: [python3, \(SingerTests.fakeTap)]
                    stream: cases
                    config: { total: \(records), sleep_ms: \(Int(seconds * 1000) / records) }
                publish:
                  license: CC-BY-4.0
                """, to: directory + "/pipelines/slow-\(index).yaml")
        }
        return directory
    }

    /// Starts `sdata` in the background with its output in files.
    static func start(_ arguments: [String], in directory: String, name: String,
                      environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.executableURL = URL(fileURLWithPath: TestSupport.sdataBinary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        _ = FileManager.default.createFile(atPath: directory + "/\(name).log", contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/\(name).log"))
        process.standardOutput = log
        process.standardError = log
        try process.run()
        return process
    }

    static func waitUntil(_ seconds: Double, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return try await condition()
    }

    /// Stops a started process and waits until it has exited, so that a test's later `defer`, which removes the
    /// project folder, does not race the process's last writes (a folder removed half-way is left behind).
    static func stop(_ process: Process) {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    static func waitForExit(_ process: Process, seconds: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { try? await Task.sleep(for: .milliseconds(100)) }
        return !process.isRunning
    }

    @Test func twoSchedulersNeverRunOnePipelineTwiceOrAtOnce() async throws {
        let directory = try Self.project(pipelines: 3)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let arguments = ["schedule", "--tick", "1s", "--max-concurrent", "2", "--log-level", "info"]
        let first = try Self.start(arguments, in: directory, name: "first")
        let second = try Self.start(arguments, in: directory, name: "second")
        let catalog = try Catalog.open(root: directory + "/catalog")
        let finished = try await Self.waitUntil(90) {
            let runs = try await catalog.store.runs(pipeline: nil, limit: 100)
            return Set(runs.filter { $0.status == .published }.map(\.pipeline)).count == 3
        }
        if !finished {
            let runs = try await catalog.store.runs(pipeline: nil, limit: 100)
            let logs = (try? TestSupport.read(directory + "/first.log")) ?? "" + ((try? TestSupport.read(directory + "/second.log")) ?? "")
            Issue.record("not every pipeline published within 90 s: \(runs.map { "\($0.pipeline) \($0.status.rawValue) \($0.error ?? "")" }); logs: \(logs.suffix(3000))")
        }
        let failures = try await catalog.store.runs(pipeline: nil, limit: 100).filter { $0.status == .failed }
        #expect(failures.isEmpty, "no run failed: \(failures.map { "\($0.pipeline): \($0.error ?? "")" })")
        first.terminate()
        second.terminate()
        let firstExited = await Self.waitForExit(first, seconds: 15)
        let secondExited = await Self.waitForExit(second, seconds: 15)
        #expect(firstExited && secondExited)
        #expect(first.terminationStatus == 0 && second.terminationStatus == 0)
        let logs = try TestSupport.read(directory + "/first.log") + TestSupport.read(directory + "/second.log")
        for pipeline in ["slow-1", "slow-2", "slow-3"] {
            let runs = try await catalog.store.runs(pipeline: pipeline, limit: 100)
                .filter { $0.status != .failed }.sorted { $0.startedAt < $1.startedAt }
            // One run per firing (minute), none overlapping another.
            let minutes = runs.map { Int($0.startedAt.timeIntervalSince1970 / 60) }
            #expect(Set(minutes).count == minutes.count, "\(pipeline) ran twice for one firing: \(runs.map(\.id))")
            for (earlier, later) in zip(runs, runs.dropFirst()) {
                #expect((earlier.finishedAt ?? .distantFuture) <= later.startedAt, "\(pipeline) runs overlap")
            }
        }
        // The limit holds across both processes: never more than 2 runs at once.
        let all = try await catalog.store.runs(pipeline: nil, limit: 100).filter { $0.status != .failed }
        for run in all {
            let overlapping = all.filter { $0.startedAt <= run.startedAt && ($0.finishedAt ?? .distantFuture) > run.startedAt }
            #expect(overlapping.count <= 2, "more than --max-concurrent 2 runs at once across the two schedulers")
        }
        #expect(try await catalog.store.runningRuns().isEmpty)
        #expect(try await catalog.store.leases().isEmpty, "both schedulers released their leases and slots")
        #expect(logs.contains("scheduler stopped"))
    }

    @Test func sigtermMidRunCancelsItCleanly() async throws {
        let directory = try Self.project(pipelines: 1, seconds: 20)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let scheduler = try Self.start(["schedule", "--tick", "1s"], in: directory, name: "scheduler")
        let catalog = try Catalog.open(root: directory + "/catalog")
        #expect(try await Self.waitUntil(30) { try await !catalog.store.runningRuns().isEmpty })
        try await Task.sleep(for: .seconds(1))
        scheduler.terminate()
        #expect(await Self.waitForExit(scheduler, seconds: 15), "the scheduler stops promptly on SIGTERM")
        #expect(scheduler.terminationStatus == 0)
        let run = try #require(try await catalog.store.runs(pipeline: "slow-1", limit: 1).first)
        #expect(run.status == .failed)
        #expect(run.error?.contains("cancel") == true, "\(run.error ?? "")")
        #expect(try await catalog.store.versions(dataset: "slow-1").isEmpty, "nothing was published")
        #expect(try await catalog.store.leases().isEmpty, "the lease was released")
    }

    @Test func aKilledSchedulersRunIsMarkedStaleAndItsLeaseTakenOver() async throws {
        let directory = try Self.project(pipelines: 1, seconds: 30)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let doomed = try Self.start(["schedule", "--tick", "1s", "--lease-ttl", "3s"], in: directory, name: "doomed")
        let catalog = try Catalog.open(root: directory + "/catalog")
        #expect(try await Self.waitUntil(30) { try await !catalog.store.runningRuns().isEmpty })
        kill(doomed.processIdentifier, SIGKILL)
        doomed.waitUntilExit()
        let successor = try Self.start(["schedule", "--tick", "1s", "--lease-ttl", "3s"], in: directory, name: "successor")
        defer { Self.stop(successor) }
        let marked = try await Self.waitUntil(20) {
            let runs = try await catalog.store.runs(pipeline: "slow-1", limit: 10)
            return runs.contains { $0.status == .failed && $0.error?.contains("stale") == true }
        }
        #expect(marked, "the successor marked the dead run failed (stale) once its lease expired")
        #expect(try await catalog.store.versions(dataset: "slow-1").isEmpty, "nothing from the dead run was published")
        successor.terminate()
        #expect(await Self.waitForExit(successor, seconds: 15))
    }

    @Test func metricsAreServedInPrometheusTextFormat() async throws {
        // Not every minute: a firing at a minute boundary between the first publication and the scrape would
        // count a second run.
        let directory = try Self.project(pipelines: 1, seconds: 0.3, schedule: "0 0 1 1 *")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let port = 18_000 + Int.random(in: 0..<2000)
        let server = try Self.start(["serve", "--scheduler", "--tick", "1s", "--port", "\(port)"], in: directory, name: "serve")
        defer { Self.stop(server) }
        let catalog = try Catalog.open(root: directory + "/catalog")
        #expect(try await Self.waitUntil(30) {
            try await catalog.store.runs(pipeline: "slow-1", limit: 1).first?.status == .published
        })
        let (body, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/metrics")!)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        let text = String(decoding: body, as: UTF8.self)
        for family in ["sdata_runs_total", "sdata_run_duration_seconds", "sdata_rows_total",
                       "sdata_last_success_timestamp_seconds"] {
            #expect(text.contains("# TYPE \(family) "), "\(family) is exported")
        }
        #expect(text.contains("sdata_runs_total{pipeline=\"slow-1\",outcome=\"published\"} 1"))
        // An independent parser: the Prometheus project's own Python client.
        if let python = TestSupport.prometheusPython {
            let file = directory + "/metrics.txt"
            try TestSupport.write(text, to: file)
            let parsed = try TestSupport.execute(python, ["-c", """
                import sys
                from prometheus_client.parser import text_string_to_metric_families
                names = [f.name for f in text_string_to_metric_families(open(sys.argv[1]).read())]
                print(" ".join(sorted(names)))
                """, file])
            #expect(parsed.status == 0, "\(parsed.stderr)")
            #expect(parsed.stdout.contains("sdata_runs") && parsed.stdout.contains("sdata_run_duration_seconds"))
        } else {
            Issue.record("prometheus_client is not installed (scripts/test.sh installs it into .venv)")
        }
        let (health, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/healthz")!)
        #expect(String(decoding: health, as: UTF8.self) == "{\"status\":\"ok\"}")
        server.terminate()
        #expect(await Self.waitForExit(server, seconds: 15))
    }
}
