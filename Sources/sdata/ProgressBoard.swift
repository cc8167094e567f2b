import Foundation
import SDataRunner

/// A live display on a terminal: one line per pipeline with its phase, rows, requests (pages) and rate, redrawn in
/// place. Nothing is drawn when standard error is not a terminal (logs only, then).
final class ProgressBoard: @unchecked Sendable {
    private struct Line {
        var phase: RunPhase
        var rows: Int
        var requests: Int
        var started: Date
    }

    private let lock = NSLock()
    private var order: [String] = []
    private var lines: [String: Line] = [:]
    private var drawn = 0
    private var lastDraw = Date.distantPast

    var progress: RunProgress {
        RunProgress({ [self] pipeline, phase, rows in
            update(pipeline) { line in
                line.phase = phase
                line.rows = rows
            }
        }, request: { [self] pipeline in
            update(pipeline) { $0.requests += 1 }
        })
    }

    private func update(_ pipeline: String, _ change: (inout Line) -> Void) {
        guard Terminal.isInteractive else { return }
        lock.lock()
        defer { lock.unlock() }
        if lines[pipeline] == nil {
            order.append(pipeline)
            lines[pipeline] = Line(phase: .extracting, rows: 0, requests: 0, started: Date())
        }
        change(&lines[pipeline]!)
        let now = Date()
        // At most ten redraws a second, but always the final state of a pipeline.
        guard now.timeIntervalSince(lastDraw) > 0.1 || lines[pipeline]!.phase == .done else { return }
        lastDraw = now
        draw(now: now)
    }

    private func draw(now: Date) {
        var text = drawn > 0 ? "\u{1B}[\(drawn)A" : ""
        let width = order.map(\.count).max() ?? 0
        for pipeline in order {
            let line = lines[pipeline]!
            let seconds = max(0.001, now.timeIntervalSince(line.started))
            let rate = line.phase == .done ? "" : String(format: "  %.0f rows/s", Double(line.rows) / seconds)
            let pages = line.requests > 0 ? "  \(line.requests) requests" : ""
            let phase = line.phase == .done ? "done" : line.phase.rawValue
            text += "\r\u{1B}[2K" + pipeline.padding(toLength: width, withPad: " ", startingAt: 0)
                + "  \(phase.padding(toLength: 10, withPad: " ", startingAt: 0))  \(line.rows) rows\(pages)\(rate)\n"
        }
        drawn = order.count
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Erases the board and forgets it, before a summary line takes its place.
    func reset() {
        lock.lock()
        defer { lock.unlock() }
        if drawn > 0, Terminal.isInteractive {
            FileHandle.standardError.write(Data(("\u{1B}[\(drawn)A" + String(repeating: "\r\u{1B}[2K\n", count: drawn)
                + "\u{1B}[\(drawn)A").utf8))
        }
        order.removeAll()
        lines.removeAll()
        drawn = 0
    }
}
