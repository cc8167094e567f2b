import Dispatch
import Foundation

/// SIGTERM and SIGINT (a deploy, `systemctl stop`, Ctrl-C) stop the current run cleanly: its task is cancelled, the
/// runner deletes the draft and the staged extract, records the run as failed ("the run was cancelled") and publishes
/// nothing; the catalog lock is released when the process exits. Further runs are not started.
final class StopSignals: @unchecked Sendable {
    private let lock = NSLock()
    private var sources: [any DispatchSourceSignal] = []
    private var signalName: String?
    private var current: Task<Void, Never>?

    init() {
        for (number, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.receive(name) }
            source.resume()
            sources.append(source)
        }
    }

    /// The signal received, if any.
    var received: String? {
        lock.withLock { signalName }
    }

    private func receive(_ name: String) {
        let task = lock.withLock {
            signalName = signalName ?? name
            return current
        }
        task?.cancel()
    }

    /// Runs `body` in a task that a stop signal cancels.
    func cancellingOnSignal<Result: Sendable>(_ body: @escaping @Sendable () async -> Result) async -> Result {
        let box = ResultBox<Result>()
        let task = Task { box.value = await body() }
        if install(task) { task.cancel() }
        await task.value
        install(nil)
        return box.value!
    }

    /// Makes `task` the one a signal cancels; true when a signal already arrived.
    @discardableResult
    private func install(_ task: Task<Void, Never>?) -> Bool {
        lock.withLock {
            current = task
            return signalName != nil
        }
    }
}

private final class ResultBox<Value>: @unchecked Sendable {
    var value: Value?
}
