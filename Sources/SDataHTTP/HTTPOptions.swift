import SDataCore
import SDataPluginAPI

/// Option checks that network plugins share.
public enum HTTPOptions {
    /// Fails unless `url` is an absolute http(s) URL.
    public static func checkURL(_ url: String, option: String) throws {
        guard url.hasPrefix("http://") || url.hasPrefix("https://"), url.count > 8, !url.contains(" ") else {
            throw OptionError(option: option, "must be an absolute http:// or https:// URL")
        }
    }
}

extension String {
    /// The text without any trailing `suffix` repetitions (`https://a/` → `https://a`).
    public func trimmingSuffix(_ suffix: Character) -> Substring {
        var text = Substring(self)
        while text.last == suffix { text.removeLast() }
        return text
    }
}
