import Foundation
import Testing
import SDataCore
import SDataPluginAPI
import SDataBuiltins
import SDataSpec

/// Every built-in plugin is documented from its descriptor, and its example is a valid spec.
struct PluginDocsTests {
    @Test(arguments: Builtins.registry.descriptors.map(\.id))
    func generatedDocsAreCurrent(id: String) throws {
        let descriptor = try #require(Builtins.registry.plugin(named: id)?.descriptor)
        let path = TestSupport.packageRoot + "/docs/plugins/\(id).md"
        let written = try? TestSupport.read(path)
        #expect(written == descriptor.markdown,
                "docs/plugins/\(id).md is stale: run `swift run sdata plugins \(id) > docs/plugins/\(id).md`")
    }

    @Test(arguments: Builtins.registry.descriptors.map(\.id))
    func exampleValidates(id: String) throws {
        let descriptor = try #require(Builtins.registry.plugin(named: id)?.descriptor)
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Examples name their keys as ${secret:…}; these are checked with placeholders, as `--secrets-optional` does.
        var variables = EnvironmentVariables(environment: [:], redactor: SecretRedactor())
        variables.secretsOptional = true
        let file = directory + "/example.yaml"
        try TestSupport.write("id: example\n" + descriptor.example + "\n", to: file)
        let result = SpecLoader(registry: Builtins.registry, variables: variables).load(file: file)
        if case .failure(let error) = result {
            Issue.record("the example of \(id) does not validate: \(error.diagnostics.map(\.description))")
        }
    }

    @Test(arguments: Builtins.registry.descriptors.map(\.id))
    func everyOptionIsDocumented(id: String) throws {
        let descriptor = try #require(Builtins.registry.plugin(named: id)?.descriptor)
        #expect(!descriptor.summary.isEmpty)
        for option in descriptor.options {
            #expect(!option.summary.isEmpty, "\(id).\(option.name)")
            #expect(option.name.allSatisfy { $0.isLowercase || $0 == "_" }, "\(id).\(option.name) must be snake_case")
        }
    }
}
