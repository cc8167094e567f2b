import Foundation
import SDataCore
import SDataPluginAPI

/// Markdown documentation generated from a plugin descriptor (`sdata plugins NAME`, `docs/plugins/*.md`).
enum PluginDocs {
    static func markdown(_ descriptor: PluginDescriptor) -> String {
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

enum SuggestionText {
    static func hint(_ word: String, _ candidates: [String]) -> String {
        Suggestion.hint(for: word, in: candidates)
    }
}
