/// One logfmt line (`key=value key="a value"`), the format of S-Data's logs on the terminal and in run log files.
public enum Logfmt {
    public static func line(_ fields: [(String, String)]) -> String {
        fields.map { key, value in "\(key)=\(quote(value))" }.joined(separator: " ")
    }

    /// A value as is, or JSON-quoted when it is empty or holds a space, `=`, `"` or a line break.
    public static func quote(_ value: String) -> String {
        guard value.isEmpty || value.contains(where: { $0 == " " || $0 == "=" || $0 == "\"" || $0.isNewline }) else {
            return value
        }
        return JSONText.quote(value)
    }
}
