import Foundation
import SDataCore
public import SDataPluginAPI

/// `singer`: runs any executable Singer tap and reads its SCHEMA / RECORD / STATE messages.
public struct SingerTap: SourcePlugin {
    public static let descriptor = PluginDescriptor(
        id: "singer",
        summary: "Runs an external Singer tap and reads its records; the tap's STATE becomes the bookmark.",
        details: """
            The tap is started as `command --config CONFIG [--catalog CATALOG] [--state STATE]`, with `config` \
            written as JSON to a private 0600 file that is removed after the run (secrets in it never reach the \
            spec's folder), or `config_file` passed as it is. Its standard output is read line by line as it \
            arrives (constant memory): `RECORD` messages of `stream` become records, nested objects flattened to \
            `parent.child` fields and arrays kept as JSON text; `SCHEMA` messages are checked for the stream; the \
            last `STATE` message is kept and saved only after the version the run fed is published, then given \
            back to the tap with `--state` on the next run, so an interrupted run re-reads rather than skips. \
            Without `stream`, a tap that emits records of more than one stream fails the run naming them. A tap \
            that exits non-zero, or a line that is not a Singer message, fails the run; nothing is published from \
            it. The tap's own log lines (standard error) are logged at debug level only, since they are not \
            S-Data's to vouch for.
            """,
        options: [
            OptionSpec("command", .stringList, required: true,
                       "The tap's executable and fixed arguments, like `tap-rest-api-msdk` or `[python3, -m, tap_x]`."),
            OptionSpec("config", .any, "The tap's configuration, written to a private JSON file."),
            OptionSpec("config_file", .string, "Or an existing JSON config file, relative to the spec."),
            OptionSpec("catalog_file", .string, "A Singer catalog, relative to the spec."),
            OptionSpec("catalog_flag", .choice(["--catalog", "--properties"]), default: "--catalog",
                       "The flag older taps expect for the catalog."),
            OptionSpec("stream", .string, "The stream whose records are read; required when the tap emits several."),
        ],
        example: """
            source:
              plugin: singer
              with:
                command: tap-rest-api-msdk
                stream: cases
                config:
                  api_url: https://api.example.org
                  streams:
                    - { name: cases, path: /v1/cases, records_path: "$.data[*]", primary_keys: [id] }
            """
    )

    let command: [String]
    let config: ConfigNode?
    let configFile: String?
    let catalogFile: String?
    let catalogFlag: String
    let stream: String?

    public init(options: PluginOptions) throws {
        command = options.strings("command") ?? []
        config = options.value("config")
        configFile = options.string("config_file")
        catalogFile = options.string("catalog_file")
        catalogFlag = options.string("catalog_flag") ?? "--catalog"
        stream = options.string("stream")
        guard let executable = command.first, !executable.isEmpty else {
            throw OptionError(option: "command", "must name the tap's executable")
        }
        if config != nil, configFile != nil {
            throw OptionError(option: "config_file", "and 'config' exclude each other; use one")
        }
        if let config, config.mapping == nil {
            throw OptionError(option: "config", "must be a mapping (the tap's JSON config object)")
        }
    }

    public func run(into writer: RecordWriter, context: SourceContext) async throws {
        let folder = context.scratchDirectory ?? NSTemporaryDirectory()
        let tag = UInt64.random(in: 0...UInt64.max)
        var arguments = Array(command)
        var temporary: [String] = []
        defer { for file in temporary { try? FileManager.default.removeItem(atPath: file) } }
        func privateFile(_ name: String, _ text: String) throws -> String {
            let path = folder + "/singer-\(tag)-\(name).json"
            guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8),
                                                 attributes: [.posixPermissions: 0o600]) else {
                throw SourceError("cannot write the tap's \(name) file in \(folder)")
            }
            temporary.append(path)
            return path
        }
        if let config {
            arguments += ["--config", try privateFile("config", config.jsonText)]
        } else if let configFile {
            arguments += ["--config", context.resolve(path: configFile)]
        }
        if let catalogFile { arguments += [catalogFlag, context.resolve(path: catalogFile)] }
        if let state = context.state { arguments += ["--state", try privateFile("state", state)] }

        let tap = try TapProcess(arguments: arguments, logger: context.logger)
        defer { tap.stop() }
        var output = BatchingWriter(writer, batchSize: context.batchSize, emptyAsNull: false)
        var streams: Set<String> = []
        var lastState: String?
        var line = 0
        for await item in tap.messages {
            tap.consumed()
            line += 1
            let message: JSONValue
            switch item {
            case .message(let value): message = value
            case .failure(let error): throw SourceError("tap '\(command[0])' output \(error.message)")
            }
            switch message["type"]?.text {
            case "RECORD":
                let name = message["stream"]?.text ?? ""
                if let stream, name != stream { continue }
                streams.insert(name)
                if stream == nil, streams.count > 1 {
                    throw SourceError("tap '\(command[0])' emits records of several streams (\(streams.sorted().joined(separator: ", "))); "
                                      + "set 'stream' to the one to publish")
                }
                guard let record = message["record"], case .object = record else {
                    throw SourceError("tap '\(command[0])' line \(line): a RECORD message without a record object")
                }
                try await output.append(record)
            case "STATE":
                if let value = message["value"] { lastState = value.jsonText }
            case "SCHEMA", "ACTIVATE_VERSION", "BATCH":
                break
            default:
                throw SourceError("tap '\(command[0])' line \(line): not a Singer message (no known 'type')")
            }
        }
        try Task.checkCancellation()
        let status = await tap.exitStatus()
        guard status == 0 else {
            throw SourceError("tap '\(command[0])' exited with status \(status); nothing is published from this run "
                              + "(its own messages are in the run log at --log-level debug)")
        }
        if let stream, streams.isEmpty {
            context.logger.warning("tap '\(command[0])' emitted no records for stream '\(stream)'")
        }
        try await output.finish()
        if let lastState { context.saveState(lastState) }
        context.logger.info("singer: \(output.count) records from '\(command[0])'")
    }
}

/// A running tap: its standard output parsed on a thread of its own (blocking reads must not occupy the
/// cooperative pool) and handed over with back-pressure; its standard error drained into the debug log.
final class TapProcess: @unchecked Sendable {
    enum Item: Sendable {
        case message(JSONValue)
        case failure(SourceError)
    }

    private let process = Process()
    let messages: AsyncStream<Item>
    private let credits = Credits(1024)

    init(arguments: [String], logger: SourceLogger) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw SourceError("cannot start tap '\(arguments[0])': \(error.localizedDescription)")
        }
        let (stream, continuation) = AsyncStream<Item>.makeStream()
        messages = stream
        let credits = self.credits
        continuation.onTermination = { _ in credits.stop() }
        let outDescriptor = dup(stdout.fileHandleForReading.fileDescriptor)
        let errDescriptor = dup(stderr.fileHandleForReading.fileDescriptor)
        try? stdout.fileHandleForReading.close()
        try? stderr.fileHandleForReading.close()
        let name = arguments[0]
        Thread.detachNewThread {
            let reader = JSONLinesReader(descriptor: outDescriptor, label: "line")
            do throws(SourceError) {
                while let value = try reader.next() {
                    guard credits.take() else { break }
                    continuation.yield(.message(value))
                }
            } catch {
                continuation.yield(.failure(error))
            }
            continuation.finish()
        }
        Thread.detachNewThread {
            let reader = ByteReader(descriptor: errDescriptor, label: "stderr")
            var line: [UInt8] = []
            while let byte = try? reader.next() {
                if byte == 0x0A {
                    logger.debug("tap \(name): " + String(decoding: line.prefix(500), as: UTF8.self))
                    line.removeAll(keepingCapacity: true)
                } else {
                    line.append(byte)
                }
            }
        }
    }

    /// Returns one credit per consumed message; the reader thread waits when 1024 are outstanding.
    func consumed() { credits.give() }

    func exitStatus() async -> Int32 {
        await withCheckedContinuation { (done: CheckedContinuation<Int32, Never>) in
            DispatchQueue.global().async {
                self.process.waitUntilExit()
                done.resume(returning: self.process.terminationStatus)
            }
        }
    }

    /// Ends the tap if it is still running (the run failed or was cancelled).
    func stop() {
        credits.stop()
        if process.isRunning { process.terminate() }
    }
}

/// A counting gate between the reader thread and the consumer (a semaphore that can also be stopped).
private final class Credits: @unchecked Sendable {
    private let condition = NSCondition()
    private var available: Int
    private var stopped = false

    init(_ count: Int) { available = count }

    /// Waits for a credit; false once stopped.
    func take() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while available == 0, !stopped { condition.wait() }
        if stopped { return false }
        available -= 1
        return true
    }

    func give() {
        condition.lock()
        available += 1
        condition.signal()
        condition.unlock()
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}
