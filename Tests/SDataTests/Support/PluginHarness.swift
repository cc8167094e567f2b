import Foundation
import SDataCore
import SDataPluginAPI
import Synchronization

/// Runs a source plugin outside the runner and collects what it produces.
enum PluginHarness {
    /// Fast retries for tests: the same policy, shorter waits.
    /// Plugins' own default rate limits (data.gov.sg: 4 per 10 s) would only slow the tests down.
    static let http = HTTPSettings(timeoutSeconds: 5, retries: 3, backoffSeconds: 0.01, maxBackoffSeconds: 0.05,
                                   maxRetryAfterSeconds: 5, rateLimit: .init(requests: 1000, windowSeconds: 1))

    struct Output: Sendable {
        var records: [[String: Value]]
        var savedState: String?
        var logs: [String]
    }

    /// Builds `plugin` from `options` and runs it to the end.
    static func run(_ plugin: any SourcePlugin.Type, _ options: [String: ConfigNode], state: String? = nil,
                    bookmark: String? = nil, settings: HTTPSettings = http) async throws -> Output {
        let source = try plugin.init(options: PluginOptions(descriptor: plugin.descriptor, options))
        let scratch = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let logs = LogCollector()
        let context = SourceContext(baseDirectory: TestSupport.fixtures, batchSize: 100, bookmark: bookmark, state: state,
                                    http: settings, scratchDirectory: scratch,
                                    logger: SourceLogger { level, message in logs.append("\(level.rawValue): \(message)") })
        let stream = RecordStream()
        defer {
            // SDATA_TEST_LOGS=1 shows what the plugin logged, to understand a failure.
            if ProcessInfo.processInfo.environment["SDATA_TEST_LOGS"] != nil {
                FileHandle.standardError.write(Data(logs.lines.joined(separator: "\n").utf8))
            }
        }
        let records = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await stream.feed(from: source, context: context) }
            var rows: [[String: Value]] = []
            for try await batch in stream {
                for record in batch.records {
                    rows.append(Dictionary(uniqueKeysWithValues: zip(batch.schema.names, record)))
                }
            }
            // A cancelled stream simply ends: what arrived so far is not the source's output.
            try Task.checkCancellation()
            try await group.waitForAll()
            return rows
        }
        return Output(records: records, savedState: context.savedState, logs: logs.lines)
    }

    /// The error a run throws, or a failure when it does not throw.
    static func failure(_ plugin: any SourcePlugin.Type, _ options: [String: ConfigNode], state: String? = nil,
                        settings: HTTPSettings = http) async -> (any Error)? {
        do {
            _ = try await run(plugin, options, state: state, settings: settings)
            return nil
        } catch {
            return error
        }
    }
}

final class LogCollector: Sendable {
    private let stored = Mutex<[String]>([])

    func append(_ line: String) { stored.withLock { $0.append(line) } }

    var lines: [String] { stored.withLock { $0 } }
}

/// Option values for tests.
extension ConfigNode {
    static func list(_ items: [String]) -> ConfigNode { ConfigNode(.sequence(items.map { .scalar($0) })) }

    static func map(_ pairs: KeyValuePairs<String, String>) -> ConfigNode {
        ConfigNode(.mapping(pairs.map { (ConfigNode.scalar($0.key), ConfigNode.scalar($0.value)) }))
    }

    static func tree(_ pairs: [(String, ConfigNode)]) -> ConfigNode {
        ConfigNode(.mapping(pairs.map { (ConfigNode.scalar($0.0), $0.1) }))
    }
}

extension [String: ConfigNode] {
    init(_ pairs: KeyValuePairs<String, String>) {
        self.init(uniqueKeysWithValues: pairs.map { ($0.key, ConfigNode.scalar($0.value)) })
    }
}
