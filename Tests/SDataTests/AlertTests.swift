import Foundation
import Testing

/// Alerts reach a webhook receiver on loopback with the documented JSON body.
@Suite(.serialized)
struct AlertTests {
    /// A real HTTP server on 127.0.0.1 (Python's http.server) that appends each POST body to a file.
    static let receiver = """
        import http.server, sys
        out = sys.argv[1]
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
                with open(out, 'ab') as f:
                    f.write(body + b'\\n')
                self.send_response(204)
                self.end_headers()
            def log_message(self, *args):
                pass
        server = http.server.HTTPServer(('127.0.0.1', 0), Handler)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """

    @Test func failuresAndStalenessAreDeliveredToTheWebhook() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let received = directory + "/received.jsonl"
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = ["python3", "-c", Self.receiver, received]
        let output = Pipe()
        server.standardOutput = output
        // The receiver must not hold the test runner's own output open, or the runner waits for it forever.
        server.standardError = FileHandle.nullDevice
        server.standardInput = FileHandle.nullDevice
        try server.run()
        defer {
            // SIGKILL: a test runner may start children with SIGTERM ignored.
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        var portText = ""
        while !portText.hasSuffix("\n") {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { break }
            portText += String(decoding: data, as: UTF8.self)
        }
        let port = try #require(Int(portText.trimmingCharacters(in: .whitespacesAndNewlines)))

        try TestSupport.write("""
            id: broken
            schedule: "0 0 1 1 *"
            max_staleness: 1s
            source: { plugin: file, with: { path: missing.csv } }
            """, to: directory + "/pipelines/broken.yaml")
        let environment = ["SDATA_ALERT_WEBHOOK": "http://127.0.0.1:\(port)/hooks/sdata"]
        let run = try TestSupport.execute(TestSupport.sdataBinary, ["run", "--all"], in: directory, environment: environment)
        #expect(run.status == 1)
        Thread.sleep(forTimeInterval: 1.5)
        let due = try TestSupport.execute(TestSupport.sdataBinary, ["run", "--all", "--due"], in: directory,
                                          environment: environment)
        #expect(due.stdout.contains("no pipeline is due"))

        let lines = try TestSupport.read(received).split(separator: "\n")
        let alerts = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:] }
        #expect(alerts.count == 2)
        #expect(alerts.first?["event"] as? String == "run_failed")
        #expect(alerts.first?["pipeline"] as? String == "broken")
        #expect((alerts.first?["message"] as? String)?.contains("cannot open") == true)
        #expect(alerts.first?["run_id"] is String)
        #expect(alerts.last?["event"] as? String == "stale")
        // One staleness alert per period, not one per pass.
        _ = try TestSupport.execute(TestSupport.sdataBinary, ["run", "--all", "--due"], in: directory, environment: environment)
        #expect(try TestSupport.read(received).split(separator: "\n").count == 2)
    }
}
