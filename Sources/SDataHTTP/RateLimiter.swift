import SDataCore
import SDataPluginAPI

/// At most `requests` requests in any window of `windowSeconds`: a sliding log of the last request times.
///
/// data.gov.sg resets its windows every 10 s and answers 429 past 4 requests; a declared limit keeps a source under
/// such quotas instead of provoking them.
actor RateLimiter {
    private let requests: Int
    private let window: Duration
    private var recent: [ContinuousClock.Instant] = []
    private let clock = ContinuousClock()

    init(requests: Int, windowSeconds: Double) {
        self.requests = max(1, requests)
        window = .milliseconds(Int64(windowSeconds * 1000))
    }

    /// Waits until one more request fits in the window, then counts it.
    func acquire() async throws {
        while true {
            let now = clock.now
            recent.removeAll { now - $0 >= window }
            if recent.count < requests {
                recent.append(now)
                return
            }
            try await Task.sleep(until: recent[0] + window, clock: clock)
        }
    }
}

/// Delays between attempts: exponential back-off with jitter, or what the server asked for.
enum Backoff {
    /// Attempt `attempt` (1 for the first retry) waits between half and all of `base × 2^(attempt-1)`, capped.
    static func delay(attempt: Int, base: Double, cap: Double) -> Double {
        let full = min(cap, base * Double(1 << min(attempt - 1, 30)))
        return full / 2 + Double.random(in: 0...(full / 2))
    }

    /// Seconds from a `Retry-After` header: delta seconds, or an HTTP date (RFC 9110 IMF-fixdate).
    static func retryAfter(_ header: String?, now: Double) -> Double? {
        guard let text = header?.trimmingWhitespace(), !text.isEmpty else { return nil }
        if let seconds = Double(text) { return max(0, seconds) }
        guard let date = HTTPDate.parse(text) else { return nil }
        return max(0, date - now)
    }
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the only form servers send today, as seconds since 1970.
enum HTTPDate {
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func parse(_ text: String) -> Double? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, let day = Int(parts[1]), let month = months.firstIndex(of: String(parts[2])),
              let year = Int(parts[3]) else { return nil }
        let clock = parts[4].split(separator: ":").compactMap { Int($0) }
        guard clock.count == 3 else { return nil }
        guard let date = LocalDate(year: year, month: month + 1, day: day) else { return nil }
        return Double(date.daysSinceEpoch * 86_400 + clock[0] * 3600 + clock[1] * 60 + clock[2])
    }
}
