/// Durations as specs write them: a whole number and a unit, `30s`, `5m`, `2h`, `14d`, `2w` (and `0`).
public enum DurationText {
    /// Seconds in `text`, or `nil` when it is not a duration.
    public static func seconds(_ text: String) -> Int? {
        if text == "0" { return 0 }
        guard let unit = text.last, let count = Int(text.dropLast()), count >= 0 else { return nil }
        switch unit {
        case "s": return count
        case "m": return count * 60
        case "h": return count * 3600
        case "d": return count * 86_400
        case "w": return count * 7 * 86_400
        default: return nil
        }
    }
}
