import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM and SIGINT (a deploy, `systemctl stop`, Ctrl-C) stop the current run cleanly: its task is cancelled, the
/// runner deletes the draft and the staged extract, records the run as failed ("the run was cancelled") and publishes
/// nothing; the catalog lock is released when the process exits. Further runs are not started.
///
/// The signals are caught by a process-wide `sigaction` handler that writes the signal's number to a pipe, and a
/// thread of ours, which unblocks them, reads the pipe. (A Dispatch signal source was used first: on Linux it sets the
/// signal to `SIG_IGN` and reads a `signalfd`, which works only while the signal is blocked on every thread.)
final class StopSignals: @unchecked Sendable {
    private let lock = NSLock()
    private var signalName: String?
    private var current: Task<Void, Never>?
    private let onSignal: @Sendable (String) -> Void

    /// `onSignal` runs (on the signal thread) for every stop signal received, after the current task is cancelled.
    init(onSignal: @escaping @Sendable (String) -> Void = { _ in }) {
        self.onSignal = onSignal
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { fatalError("sdata: cannot create the stop-signal pipe: errno \(errno)") }
        _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
        stopSignalPipe = fds[1]
        let reader = fds[0]
        let thread = Thread { [weak self] in
            // Threads started from Dispatch's workers (the cooperative pool, NIO's, this one) inherit a mask that
            // blocks every signal, and so does a process started from one: without one thread that surely accepts
            // them, a SIGTERM can stay pending until the process exits. This thread is that one.
            var accepted = sigset_t()
            sigemptyset(&accepted)
            sigaddset(&accepted, SIGTERM)
            sigaddset(&accepted, SIGINT)
            pthread_sigmask(SIG_UNBLOCK, &accepted, nil)
            var number: UInt8 = 0
            while true {
                let got = read(reader, &number, 1)
                if got < 0 && errno == EINTR { continue }
                guard got == 1, let self else { return }
                self.receive(Int32(number) == SIGINT ? "SIGINT" : "SIGTERM")
            }
        }
        thread.name = "sdata.signals"
        thread.start()
        for number in [SIGTERM, SIGINT] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = stopSignalHandler
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(number, &action, nil)
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
        onSignal(name)
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

/// The write end of the stop-signal pipe (set once, before the handler is installed).
nonisolated(unsafe) private var stopSignalPipe: Int32 = -1

/// Async-signal-safe: one `write` of the signal's number.
private func stopSignalHandler(_ number: Int32) {
    var byte = UInt8(truncatingIfNeeded: number)
    _ = write(stopSignalPipe, &byte, 1)
}

private final class ResultBox<Value>: @unchecked Sendable {
    var value: Value?
}
