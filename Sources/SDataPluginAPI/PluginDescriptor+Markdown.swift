import Foundation

extension PluginDescriptor {
    /// Markdown documentation generated from the descriptor: what `sdata plugins NAME` prints and what
    /// `docs/plugins/NAME.md` holds (a test fails when that file is stale).
    public var markdown: String {
        let descriptor = self
        var text = "# `\(descriptor.id)`\n\n\(descriptor.summary)\n\n"
        if !descriptor.details.isEmpty { text += descriptor.details + "\n\n" }
        text += "## Options\n\n| option | type | required | default | description |\n| --- | --- | --- | --- | --- |\n"
        for option in descriptor.options {
            let defaultValue = option.defaultValue.map { "`\($0.replacingOccurrences(of: "|", with: "\\|"))`" } ?? ""
            text += "| `\(option.name)` | \(option.kind.label.replacingOccurrences(of: "|", with: "\\|")) | "
            text += "\(option.required ? "yes" : "no") | \(defaultValue) | "
            text += option.summary.replacingOccurrences(of: "|", with: "\\|") + (option.isSecret ? " (secret)" : "") + " |\n"
        }
        text += "\n## Example\n\n```yaml\n\(descriptor.example)\n```\n"
        return text
    }
}
