import Foundation
import ArgumentParser
import SDataCore
import SDataPluginAPI
import SDataBuiltins

struct Plugins: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugins",
        abstract: "List source plugins, or document one.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "A plugin to document.")
    var name: String?

    struct OptionInfo: Encodable {
        var name: String, type: String, required: Bool, secret: Bool, summary: String
        var `default`: String?
    }

    struct PluginInfo: Encodable {
        var id: String, summary: String, details: String, example: String
        var options: [OptionInfo]
    }

    func run() async throws {
        let registry = Builtins.registry
        var descriptors = registry.descriptors
        if let name {
            guard let plugin = registry.plugin(named: name) else {
                Output.error("unknown plugin '\(name)'\(Suggestion.hint(for: name, in: registry.names))")
                throw ExitCode(1)
            }
            descriptors = [plugin.descriptor]
        }
        if global.json {
            return try Output.json(descriptors.map { descriptor in
                PluginInfo(id: descriptor.id, summary: descriptor.summary, details: descriptor.details,
                           example: descriptor.example,
                           options: descriptor.options.map {
                               OptionInfo(name: $0.name, type: $0.kind.label, required: $0.required, secret: $0.isSecret,
                                          summary: $0.summary, default: $0.defaultValue)
                           })
            })
        }
        guard name != nil else {
            for descriptor in descriptors { Output.line("\(descriptor.id.padding(toLength: 16, withPad: " ", startingAt: 0)) \(descriptor.summary)") }
            Output.line("\nsdata plugins NAME documents a plugin's options.")
            return
        }
        print(descriptors[0].markdown, terminator: "")
    }
}
