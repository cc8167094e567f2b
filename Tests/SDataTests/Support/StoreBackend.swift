import Foundation
import Testing
import SDataCatalog

/// The catalog-store implementations the store suite runs against: the embedded SQLite file, and a real PostgreSQL
/// server when `SDATA_TEST_POSTGRES` names one (`scripts/pg-cluster.sh` starts a throwaway cluster; `.ci/run` and
/// `scripts/test.sh` do so). Each test gets a store of its own: a new file, or a new database on the server.
enum StoreBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// The server's URL (any database on it: the tests create their own).
    static let postgresURL: String? = ProcessInfo.processInfo.environment["SDATA_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }

    /// The backends available here. CI sets `SDATA_REQUIRE_POSTGRES=1`, and ``PostgresAvailabilityTests`` then fails
    /// instead of letting the PostgreSQL half go quietly missing.
    static var available: [StoreBackend] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    /// A fresh, empty store location: `sqlite:PATH` in a new folder, or `postgres://…/sdata_test_<random>`.
    func freshLocation() throws -> String {
        switch self {
        case .sqlite:
            return "sqlite:" + (try TestSupport.temporaryDirectory()) + "/state.sqlite"
        case .postgres:
            guard let server = StoreBackend.postgresURL else { throw CatalogError("SDATA_TEST_POSTGRES is not set") }
            let name = "sdata_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
            try StoreBackend.psql(server, "CREATE DATABASE \(name)")
            var components = URLComponents(string: server)!
            components.path = "/" + name
            return components.string!
        }
    }

    /// Removes what ``freshLocation()`` made for SQLite: the file's folder. PostgreSQL databases stay on the test
    /// cluster, a throwaway that `scripts/test.sh` removes as a whole.
    static func dispose(_ location: String) {
        guard location.hasPrefix("sqlite:") else { return }
        let file = String(location.dropFirst("sqlite:".count))
        try? FileManager.default.removeItem(atPath: (file as NSString).deletingLastPathComponent)
    }

    func makeStore() throws -> (store: any CatalogStore, location: String) {
        let location = try freshLocation()
        let store = try StoreLocation(location, layout: CatalogLayout(root: "/nonexistent")).open()
        return (store, location)
    }

    /// Runs SQL with the server's own client (`psql`), outside the store: what an operator (or an attacker with a
    /// database login) could do. Throws with psql's message when the statement fails.
    @discardableResult
    static func psql(_ url: String, _ sql: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["psql", url, "-v", "ON_ERROR_STOP=1", "-X", "-q", "-t", "-A", "-c", sql]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let problem = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CatalogError("psql: \(problem)") }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

@Suite struct PostgresAvailabilityTests {
    @Test func postgresIsThereWhenRequired() {
        if ProcessInfo.processInfo.environment["SDATA_REQUIRE_POSTGRES"] == "1" {
            #expect(StoreBackend.postgresURL != nil,
                    "SDATA_REQUIRE_POSTGRES=1 but SDATA_TEST_POSTGRES is not set: the PostgreSQL store would go untested")
        }
    }
}
