import Foundation
import Crypto
import Testing
import SDataCore
import SDataGovernance
import SDataCatalog
import SDataRunner
import SDataSpec

/// Raw extracts are encrypted and destroyed on time with their key; old versions are withdrawn leaving tombstones;
/// legal holds block deletion; every deletion is audited.
@Suite(.serialized)
struct RetentionTests {
    static let secret = "주민번호 900101-1234567"

    /// A project whose pipeline keeps raw extracts for a day and two versions.
    static func project() async throws -> (String, Catalog, [PipelineRetention]) {
        let project = try TestSupport.temporaryDirectory()
        try TestSupport.write("id,note\n1,\(secret)\n", to: project + "/data.csv")
        try TestSupport.write("""
            id: kept
            source: { plugin: file, with: { path: data.csv } }
            governance:
              rules: [{ redact: { field: note, detect: [rrn] } }]
              retention: { raw: 1d, versions: { keep_last: 2 }, logs: 1d }
            """, to: project + "/kept.yaml")
        let catalog = try Catalog.open(root: project + "/catalog")
        let spec = try TestSupport.spec(project + "/kept.yaml")
        for round in 1...3 {
            try TestSupport.write("id,note\n1,\(secret)\n\(round),x\n", to: project + "/data.csv")
            #expect(await TestSupport.runner(catalog).run(spec).run.status == .published)
        }
        let policies = [PipelineRetention(pipeline: "kept", dataset: "kept", policy: spec.governance.retention,
                                          sensitive: false)]
        return (project, catalog, policies)
    }

    @Test func rawExtractsAreEncryptedAtRest() async throws {
        let (project, catalog, _) = try await Self.project()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let extracts = try await catalog.store.rawExtracts()
        #expect(extracts.count == 3)
        for extract in extracts {
            let stage = try Data(contentsOf: URL(fileURLWithPath: catalog.layout.rawRunDirectory(extract.runId) + "/extract.stage"))
            #expect(!stage.isEmpty)
            #expect(stage.range(of: Data("900101".utf8)) == nil, "the stage holds plaintext")
            #expect(try await catalog.store.rawKey(runId: extract.runId)?.count == 32)
        }
    }

    @Test func retentionDestroysRawDataAndKeysAndWithdrawsOldVersions() async throws {
        let (project, catalog, policies) = try await Self.project()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let retention = Retention(catalog: catalog)
        let now = try #require(try await retention.plan(policies: policies).first { $0.kind == .withdrawVersion })
        #expect(now.version == 1)
        #expect(try await retention.plan(policies: policies).allSatisfy { $0.kind != .destroyRaw })

        let tomorrow = Date().addingTimeInterval(2 * 86_400)
        let due = try await retention.plan(policies: policies, now: tomorrow)
        #expect(due.filter { $0.kind == .destroyRaw }.count == 3)
        #expect(due.filter { $0.kind == .deleteRunLog }.count == 3)
        #expect(FileManager.default.fileExists(atPath: catalog.layout.logFile(due.first { $0.kind == .deleteRunLog }!.subject)))
        let done = try await retention.apply(due)
        #expect(done.count == due.count)
        for extract in try await catalog.store.rawExtracts() {
            #expect(extract.destroyedAt != nil)
            #expect(try await catalog.store.rawKey(runId: extract.runId) == nil)
            #expect(!FileManager.default.fileExists(atPath: catalog.layout.rawRunDirectory(extract.runId)))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: catalog.layout.logsDirectory).isEmpty)
        let versions = try await catalog.store.versions(dataset: "kept")
        #expect(versions.map { $0.withdrawnAt != nil } == [true, false, false])
        #expect(!FileManager.default.fileExists(atPath: catalog.layout.versionDirectory("kept", 1)))
        #expect(FileManager.default.fileExists(atPath: catalog.layout.versionDirectory("kept", 3)))
        let page = try TestSupport.read(catalog.layout.datasetDirectory("kept") + "/index.html")
        #expect(page.contains("withdrawn"))
        let kinds = try await catalog.store.auditLog().map(\.kind)
        #expect(kinds.filter { $0 == "raw.key_destroyed" }.count == 3)
        #expect(kinds.filter { $0 == "raw.data_deleted" }.count == 3)
        #expect(kinds.contains("version.withdrawn"))
        #expect(AuditVerifier.verify(try await catalog.store.auditLog()).isEmpty)
        #expect(try await retention.plan(policies: policies, now: tomorrow).isEmpty)
    }

    @Test func legalHoldsBlockDeletion() async throws {
        let (project, catalog, policies) = try await Self.project()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let retention = Retention(catalog: catalog)
        let hold = try await catalog.store.addHold(dataset: "kept", runId: nil, reason: "court order 2020-123")
        let tomorrow = Date().addingTimeInterval(2 * 86_400)
        let planned = try await retention.plan(policies: policies, now: tomorrow)
        #expect(!planned.isEmpty && planned.allSatisfy { $0.blockedByHold == hold })
        #expect(try await retention.apply(planned).isEmpty)
        #expect(try await catalog.store.rawExtracts().allSatisfy { $0.hasKey })
        #expect(try await catalog.store.releaseHold(id: hold))
        #expect(try await retention.apply(try await retention.plan(policies: policies, now: tomorrow)).count == planned.count)
    }

    /// A crash after the key was destroyed but before the files were deleted leaves only unreadable ciphertext, and
    /// the next retention pass deletes it.
    @Test func aCrashBetweenKeyAndDataLeavesNothingRecoverable() async throws {
        let (project, catalog, policies) = try await Self.project()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let extract = try #require(try await catalog.store.rawExtracts().first)
        let path = catalog.layout.rawRunDirectory(extract.runId) + "/extract.stage"
        let stage = try Data(contentsOf: URL(fileURLWithPath: path))
        let key = try #require(try await catalog.store.rawKey(runId: extract.runId))
        // Simulate the crash: the key is gone, the file is still there.
        try await catalog.store.destroyRawKey(runId: extract.runId, reason: "test: crash after key deletion")
        #expect(try await catalog.store.rawKey(runId: extract.runId) == nil)
        // With the key (which no longer exists anywhere) the file opens; without it, it cannot.
        let length = Int(stage[0]) | Int(stage[1]) << 8 | Int(stage[2]) << 16 | Int(stage[3]) << 24
        let sealed = try AES.GCM.SealedBox(combined: stage[4..<(4 + length)])
        #expect(String(decoding: try AES.GCM.open(sealed, using: SymmetricKey(data: key)), as: UTF8.self).contains("900101"))
        #expect(throws: (any Error).self) { _ = try AES.GCM.open(sealed, using: SymmetricKey(size: .bits256)) }
        let planned = try await Retention(catalog: catalog).plan(policies: policies)
        #expect(planned.contains { $0.kind == .deleteOrphanRaw && $0.subject == extract.runId })
        _ = try await Retention(catalog: catalog).apply(planned)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func sensitivePipelinesDestroyTheirRawExtractWhenTheRunEnds() async throws {
        let project = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: project) }
        try TestSupport.write("district\n강남구\n강남구\n", to: project + "/data.csv")
        try TestSupport.write("""
            id: s
            source: { plugin: file, with: { path: data.csv } }
            governance:
              classification: sensitive
              rules: [{ k_anonymity: { quasi_identifiers: [district], k: 2 } }]
              roles: { district: quasi_identifier }
            """, to: project + "/s.yaml")
        let catalog = try Catalog.open(root: project + "/catalog")
        #expect(await TestSupport.runner(catalog).run(try TestSupport.spec(project + "/s.yaml")).run.status == .published)
        let extract = try #require(try await catalog.store.rawExtracts().first)
        #expect(extract.destroyedAt != nil && !extract.hasKey)
        #expect(!FileManager.default.fileExists(atPath: catalog.layout.rawRunDirectory(extract.runId)))
    }
}
