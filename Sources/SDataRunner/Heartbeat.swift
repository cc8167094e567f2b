/// Runs `body` while `beat` is called every `interval` seconds; when a beat returns false (a lease or a claim was
/// lost to another process), `body` is cancelled — it must still return its (failed) result, which is returned.
/// Used for the pipeline lease of every run and for a worker's claim on a queued run.
public func withHeartbeat<T: Sendable>(every interval: Double, beat: @escaping @Sendable () async -> Bool,
                                       body: @escaping @Sendable () async -> T) async -> T {
    await withTaskGroup(of: T?.self) { group in
        group.addTask { await body() }
        group.addTask {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(Int64(interval * 1000)))
                if Task.isCancelled { break }
                if await !beat() { return nil }
            }
            return nil
        }
        var result: T?
        while let next = await group.next() {
            if let value = next {
                result = value
                group.cancelAll()
            } else if result == nil {
                group.cancelAll()  // the beat failed: stop the body, then collect its result
            }
        }
        return result!
    }
}
