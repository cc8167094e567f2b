import Foundation
import Testing
import SDataCatalog

/// SIGTERM during a run stops it cleanly: nothing published, nothing left behind, and the run record says so.
@Suite(.serialized)
struct StopSignalTests {
    /// Both engines: the columnar one checks for cancellation between windows of chunks.
    @Test(arguments: ["row", "columnar"])
    func sigtermMidRunLeavesTheCatalogConsistent(engine: String) async throws {
        let project = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: project) }
        var text = "id,value\n"
        for row in 0..<1_200_000 { text += "\(row),v\(row)\n" }
        try TestSupport.write(text, to: project + "/pipelines/big.csv")
        try TestSupport.write("id: big\nsource: { plugin: file, with: { path: big.csv } }\npublish: { formats: [csv] }\n",
                              to: project + "/pipelines/big.yaml")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestSupport.sdataBinary)
        process.arguments = ["run", "--all", "--engine", engine]
        process.currentDirectoryURL = URL(fileURLWithPath: project)
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Timed on a thread of its own: the test's async code shares Swift's cooperative pool (two threads on a
        // 2-core host) with tests that block it while waiting for their processes, and that once held this test's
        // signal back until the run had already published (CI, 2026-12-03: "SIGTERM lost").
        let stop = await withCheckedContinuation { continuation in
            Thread {
                continuation.resume(returning: StopSignalTests.signalMidExtract(process, raw: project + "/catalog/raw",
                                                                                 errors: errors))
            }.start()
        }
        #expect(stop.signalled, "the run had finished before the extract was seen growing: \(stop.stderr)")
        #expect(process.terminationStatus == 1, "\(stop.stderr)")
        #expect(stop.stderr.contains("stopped by SIGTERM"), "\(stop.stderr)")
        let catalog = try Catalog.open(root: project + "/catalog")
        let run = try #require(try await catalog.store.runs(pipeline: "big", limit: 1).first)
        #expect(run.status == .failed)
        #expect(run.error?.contains("stopped before it finished") == true, "\(run.error ?? "")")
        #expect(try await catalog.store.versions(dataset: "big").isEmpty)
        #expect(try await catalog.store.runningRuns().isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: catalog.layout.draftsDirectory)
            .filter { !$0.hasSuffix(".lock") }.isEmpty)
        #expect(try await catalog.store.rawExtracts().allSatisfy { !$0.hasKey })
        // The lock was released: the next run starts.
        let lock = try catalog.acquireRunLock()
        lock.release()
    }

    struct Stop: Sendable {
        var signalled: Bool
        var stderr: String
    }

    /// Blocking: waits until the run's staged extract has bytes in it (the run is under way), sends SIGTERM while the
    /// process is still there, then waits for it to exit.
    static func signalMidExtract(_ process: Process, raw: String, errors: Pipe) -> Stop {
        let deadline = Date().addingTimeInterval(60)
        var signalled = false
        while process.isRunning && Date() < deadline {
            let runs = (try? FileManager.default.contentsOfDirectory(atPath: raw)) ?? []
            let staged = runs.contains { run in
                let size = (try? FileManager.default.attributesOfItem(atPath: "\(raw)/\(run)/extract.stage"))?[.size]
                return ((size as? NSNumber)?.intValue ?? 0) > 0
            }
            if staged {
                signalled = kill(process.processIdentifier, SIGTERM) == 0
                break
            }
            usleep(5_000)
        }
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return Stop(signalled: signalled, stderr: stderr)
    }
}
