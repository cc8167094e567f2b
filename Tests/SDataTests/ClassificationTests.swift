import Foundation
import Testing
import SDataCore
import SDataGovernance
import SDataCatalog
import SDataRunner

/// Deny by default: a sensitive pipeline publishes only fields it classified, each treated as its role demands.
struct ClassificationTests {
    static let input = Schema([Field(name: "phone", type: .string), Field(name: "age", type: .integer),
                               Field(name: "note", type: .string)])

    static func problems(_ rules: [any GovernanceRule], _ roles: [String: FieldRole]) -> String? {
        do {
            _ = try GovernancePlan(rules: rules, input: input, classification: "sensitive", roles: roles)
            return nil
        } catch {
            return error.message
        }
    }

    @Test func everyRoleIsHonoured() throws {
        let key = Array("0123456789".utf8)
        let good: [any GovernanceRule] = [
            PseudonymizeRule(fields: ["phone"], key: key), RedactRule(fields: ["note"], detectors: ["phone"]),
            KAnonymityRule(quasiIdentifiers: ["age"], k: 2),
        ]
        #expect(Self.problems(good, ["phone": .identifier, "age": .quasiIdentifier, "note": .freeText]) == nil)
        #expect(Self.problems(good, ["phone": .identifier, "age": .quasiIdentifier])?
            .contains("output field 'note' has no role") == true)
        #expect(Self.problems([], ["phone": .identifier, "age": .public, "note": .public])?
            .contains("identifier 'phone' would be published as is") == true)
        #expect(Self.problems([], ["phone": .public, "age": .public, "note": .freeText])?
            .contains("free-text field 'note' has no redact rule") == true)
        #expect(Self.problems([], ["phone": .public, "age": .quasiIdentifier, "note": .public])?
            .contains("quasi-identifier 'age' is not in any k_anonymity rule") == true)
        #expect(Self.problems([], ["phone": .public, "age": .public, "note": .public, "nmae": .public])?
            .contains("'nmae', which is not an output field") == true)
        // Roles follow renames: the pseudonymized `phone` is published as `person`.
        let renamed: [any GovernanceRule] = [PseudonymizeRule(fields: ["phone"], key: key),
                                             RenameRule(mapping: [("phone", "person")])]
        #expect(Self.problems(renamed, ["person": .identifier, "age": .public, "note": .public]) == nil)
    }

    @Test func aSensitiveSpecWithoutRolesIsInvalid() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let diagnostics = try TestSupport.diagnostics("""
            id: x
            source: { plugin: file, with: { path: a.csv } }
            governance:
              classification: sensitive
              roles: { a: secretive }
            """, in: directory)
        #expect(diagnostics.contains { $0.message.contains("unknown role 'secretive'") && $0.location?.line == 5 })
        let closed = try TestSupport.diagnostics("""
            id: x
            source: { plugin: file, with: { path: a.csv } }
            schema: { additional_fields: error, fields: [{ name: phone }, { name: note }] }
            governance:
              classification: sensitive
              rules: [{ redact: { field: note, detect: [phone] } }]
              roles: { note: free_text }
            """, in: directory)
        #expect(closed.contains { $0.message.contains("output field 'phone' has no role") && $0.location?.line == 7 })
    }

    /// A column that newly appears in the source stops a sensitive pipeline, naming the column; nothing is published.
    @Test func aNewSourceColumnStopsPublication() async throws {
        let project = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: project) }
        try TestSupport.write("district,count\n강남구,3\n강남구,4\n", to: project + "/data.csv")
        try TestSupport.write("""
            id: cases
            source: { plugin: file, with: { path: data.csv } }
            governance:
              classification: sensitive
              rules: [{ k_anonymity: { quasi_identifiers: [district], k: 2 } }]
              roles: { district: quasi_identifier, count: public }
            """, to: project + "/cases.yaml")
        let catalog = try Catalog.open(root: project + "/catalog")
        let spec = try TestSupport.spec(project + "/cases.yaml")
        #expect(await TestSupport.runner(catalog).run(spec).run.status == .published)
        try TestSupport.write("district,count,patient_name\n강남구,3,김철수\n강남구,4,이영희\n", to: project + "/data.csv")
        let summary = await TestSupport.runner(catalog).run(spec)
        #expect(summary.run.status == .failed)
        #expect(summary.run.error?.contains("'patient_name' has no role") == true)
        #expect(try await catalog.store.versions(dataset: "cases").count == 1)
        #expect(!TestSupport.allText(under: project + "/catalog").contains("김철수"))
    }
}
