import Synchronization

/// Replaces every known secret value in a text with `«secret:NAME»`.
///
/// The spec loader registers each secret it resolves; every string that leaves S-Data for a log, a run record or an
/// error message passes through ``redact(_:)``. This is the last line of defence: messages are written not to contain
/// values in the first place.
public final class SecretRedactor: Sendable {
    private let secrets = Mutex<[String: String]>([:])

    public init() {}

    /// Registers a secret value under its name. Values shorter than 4 characters are not matched (they would mangle
    /// ordinary text) and should not be secrets.
    public func register(name: String, value: String) {
        guard value.count >= 4 else { return }
        // A key travels percent-encoded in URLs (`+` as `%2B`), so its encoded forms are secrets too.
        let forms = [value, PercentEncoding.encode(value), PercentEncoding.decode(value)].compactMap { $0 }
        secrets.withLock { known in
            for form in forms where form.count >= 4 { known[form] = name }
        }
    }

    public func redact(_ text: String) -> String {
        let known = secrets.withLock { $0 }
        var result = text
        for (value, name) in known.sorted(by: { $0.key.count > $1.key.count }) where result.contains(value) {
            result = result.replacing(value, with: "«secret:\(name)»")
        }
        return result
    }
}

