import Foundation
import GRDB
import Testing
import SDataCatalog
import SDataRunner

/// The audit log is append-only and hash-chained; `sdata audit verify` finds any edit, removal or reordering.
@Suite(.serialized)
struct AuditTests {
    /// A catalog with a few runs and versions, and a way to tamper with its database behind the store's back.
    static func catalogWithHistory() async throws -> (String, Catalog) {
        let project = try TestSupport.temporaryDirectory()
        try TestSupport.write("a\n1\n", to: project + "/data.csv")
        try TestSupport.write("id: small\nsource: { plugin: file, with: { path: data.csv } }\n", to: project + "/small.yaml")
        let catalog = try Catalog.open(root: project + "/catalog")
        let runner = TestSupport.runner(catalog)
        let spec = try TestSupport.spec(project + "/small.yaml")
        _ = await runner.run(spec)
        try TestSupport.write("a\n1\n2\n", to: project + "/data.csv")
        _ = await runner.run(spec)
        _ = await runner.run(spec)
        return (project, catalog)
    }

    static func tamper(_ catalog: Catalog, _ sql: String) throws {
        let database = try DatabaseQueue(path: catalog.layout.stateFile)
        try database.write { db in
            try db.execute(sql: "DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete")
            try db.execute(sql: sql)
        }
    }

    @Test func intactLogVerifies() async throws {
        let (project, catalog) = try await Self.catalogWithHistory()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let entries = try await catalog.store.auditLog()
        #expect(entries.count >= 5)
        #expect(AuditVerifier.verify(entries).isEmpty)
        let result = try TestSupport.execute(TestSupport.sdataBinary, ["audit", "verify", "--catalog", project + "/catalog"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("chain verified"))
    }

    @Test(arguments: [
        ("UPDATE audit SET detail = 'version 9' WHERE sequence = 2", "edited"),
        ("DELETE FROM audit WHERE sequence = 3", "removed"),
        ("UPDATE audit SET sequence = -sequence WHERE sequence IN (2, 3); UPDATE audit SET sequence = CASE sequence WHEN -2 THEN 3 ELSE 2 END WHERE sequence < 0", "reordered"),
        ("DELETE FROM audit WHERE sequence = (SELECT MAX(sequence) FROM audit) AND 0", "none"),
    ])
    func tamperingIsDetected(sql: String, kind: String) async throws {
        let (project, catalog) = try await Self.catalogWithHistory()
        defer { try? FileManager.default.removeItem(atPath: project) }
        try Self.tamper(catalog, sql)
        let problems = AuditVerifier.verify(try await catalog.store.auditLog())
        let result = try TestSupport.execute(TestSupport.sdataBinary, ["audit", "verify", "--catalog", project + "/catalog"])
        if kind == "none" {
            #expect(problems.isEmpty)
            #expect(result.status == 0)
        } else {
            #expect(!problems.isEmpty, "\(kind) entry not detected")
            #expect(result.status == 1)
            #expect(result.stderr.contains("audit log: entry"))
        }
    }

    @Test func theStoreRefusesToRewriteTheLog() async throws {
        let (project, catalog) = try await Self.catalogWithHistory()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let database = try DatabaseQueue(path: catalog.layout.stateFile)
        #expect(throws: (any Error).self) {
            try database.write { db in try db.execute(sql: "UPDATE audit SET detail = 'x' WHERE sequence = 1") }
        }
        #expect(throws: (any Error).self) {
            try database.write { db in try db.execute(sql: "DELETE FROM audit WHERE sequence = 1") }
        }
    }
}
