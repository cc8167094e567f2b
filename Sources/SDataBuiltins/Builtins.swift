public import SDataPluginAPI
import FileSource

/// The source plugins built into `sdata`: the one place that names them.
public enum Builtins {
    public static var registry: PluginRegistry {
        PluginRegistry([FileSource.self])
    }
}
