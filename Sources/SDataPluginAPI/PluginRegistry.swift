/// The source plugins a program knows, by name. The executable builds one (compile-time registration) and hands it
/// to the spec loader and the runner.
public struct PluginRegistry: Sendable {
    private var plugins: [String: any SourcePlugin.Type] = [:]

    public init(_ plugins: [any SourcePlugin.Type] = []) {
        for plugin in plugins { register(plugin) }
    }

    public mutating func register(_ plugin: any SourcePlugin.Type) {
        plugins[plugin.descriptor.id] = plugin
    }

    public func plugin(named name: String) -> (any SourcePlugin.Type)? { plugins[name] }

    public var names: [String] { plugins.keys.sorted() }

    public var descriptors: [PluginDescriptor] { names.compactMap { plugins[$0]?.descriptor } }
}
