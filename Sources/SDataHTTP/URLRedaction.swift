import SDataCore

/// Masks credentials in URLs before they are logged, recorded or shown: the values of secret options (as written
/// and percent-encoded) and the values of query parameters whose names say they hold a key.
public struct URLRedaction: Sendable {
    /// Query parameters masked whatever their value (compared case-insensitively, `-` and `_` ignored).
    static let keyParameters: Set<String> = [
        "servicekey", "key", "apikey", "accesskey", "accesstoken", "token", "secret", "clientsecret", "password",
        "authkey", "auth", "signature", "sig", "xapikey", "crtfckey", "certkey", "xamzsignature", "xamzcredential",
        "xamzsecuritytoken",
    ]

    private let secrets: [String]

    public init(secrets: [String]) {
        var forms = Set<String>()
        for secret in secrets where secret.count >= 4 {
            forms.insert(secret)
            forms.insert(PercentEncoding.encode(secret))
            if let decoded = PercentEncoding.decode(secret) { forms.insert(decoded) }
        }
        // Longest first, so that a key is masked whole before any shorter form inside it.
        self.secrets = forms.sorted { $0.count > $1.count }
    }

    public func redact(_ text: String) -> String {
        var result = text
        for secret in secrets where result.contains(secret) {
            result = result.replacing(secret, with: "***")
        }
        return maskKeyParameters(result)
    }

    private func maskKeyParameters(_ url: String) -> String {
        guard let question = url.firstIndex(of: "?") else { return url }
        let head = url[...question]
        let pairs = url[url.index(after: question)...].split(separator: "&", omittingEmptySubsequences: false)
        let masked = pairs.map { pair -> String in
            guard let equals = pair.firstIndex(of: "=") else { return String(pair) }
            let name = pair[..<equals].lowercased().filter { $0 != "_" && $0 != "-" }
            return URLRedaction.keyParameters.contains(name) ? pair[...equals] + "***" : String(pair)
        }
        return head + masked.joined(separator: "&")
    }
}
