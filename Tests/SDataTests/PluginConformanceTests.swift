import Foundation
import Testing
import SDataCore
import SDataPluginAPI
import SDataBuiltins
import FileSource
import SeoulOpenAPI
import DataGoKr
import DataTaipei
import DataGovSG
import HTTPJSON
import XMLFeed
import RSSAtom
import Singer

/// What every built-in plugin must do, checked the same way for each: options that decode strictly, prompt
/// cancellation, and the same records from two runs (documentation and examples: `PluginDocsTests`).
@Suite(.serialized) struct PluginConformanceTests {
    /// One working configuration of every plugin against the loopback server (or a local file).
    static func cases(_ base: String, csv: String) -> [(String, [String: ConfigNode])] {
        [
            ("file", ["path": .scalar(csv)]),
            ("seoul-openapi", ["key": .scalar("seoul-key+1"), "service": .scalar("Corona19Status"),
                               "base_url": .scalar(base + "/seoul")]),
            ("data-go-kr", ["endpoint": .scalar(base + "/datagokr/getCovid19InfStateJson"),
                            "service_key": .scalar("AbC+dEf/gh==")]),
            ("data-taipei", ["resource_id": .scalar("7f6f1b4a-0000-4000-8000-000000000000"), "base_url": .scalar(base + "/taipei")]),
            ("data-gov-sg", ["dataset_id": .scalar("d_0000000000000000000000000000abcd"), "datastore_url": .scalar(base),
                             "open_api_url": .scalar(base), "metadata_url": .scalar(base)]),
            ("http-json", ["url": .scalar(base + "/json/page"), "record_path": .scalar("data.items"),
                           "pagination": .scalar("page"), "size_param": .scalar("per_page")]),
            ("xml-feed", ["url": .scalar(base + "/xml?rows=3000"), "record_path": .scalar("item")]),
            ("feed", ["url": .scalar(base + "/feeds/press.rss2.euc-kr.xml")]),
            ("singer", ["command": .list(["python3", SingerTests.fakeTap]), "stream": .scalar("cases"),
                        "config": .tree([("total", .scalar("2000"))])]),
        ]
    }

    static func plugin(_ id: String) -> any SourcePlugin.Type { Builtins.registry.plugin(named: id)! }

    @Test func everyPluginIsCoveredHere() async throws {
        let covered = Set(Self.cases("http://x", csv: "/x.csv").map(\.0))
        #expect(covered == Set(Builtins.registry.names))
    }

    @Test func optionsDecodeStrictly() throws {
        for id in Builtins.registry.names {
            let descriptor = Self.plugin(id).descriptor
            var diagnostics = Diagnostics()
            let with = ConfigNode.tree([("no_such_option", .scalar("1"))])
            _ = PluginOptions.validate(with, against: descriptor, diagnostics: &diagnostics)
            #expect(diagnostics.items.contains { $0.message.contains("unknown option 'no_such_option'") }, "\(id)")
            if let required = descriptor.options.first(where: \.required) {
                #expect(diagnostics.items.contains { $0.message.contains("needs option '\(required.name)'") }, "\(id)")
            }
            if let integer = descriptor.options.first(where: { if case .integer = $0.kind { true } else { false } }) {
                var typed = Diagnostics()
                _ = PluginOptions.validate(.tree([(integer.name, .scalar("many"))]), against: descriptor, diagnostics: &typed)
                #expect(typed.items.contains { $0.message.contains("must be an integer") }, "\(id).\(integer.name)")
            }
        }
    }

    @Test func twoRunsGiveTheSameRecords() async throws {
        let csv = try Self.largeCSV(rows: 3000)
        defer { try? FileManager.default.removeItem(atPath: (csv as NSString).deletingLastPathComponent) }
        try await FixtureServer.with { _, base in
            for (id, options) in Self.cases(base, csv: csv) {
                let first = try await PluginHarness.run(Self.plugin(id), options)
                let second = try await PluginHarness.run(Self.plugin(id), options)
                #expect(!first.records.isEmpty, "\(id)")
                #expect(first.records == second.records, "\(id)")
            }
        }
    }

    @Test func cancellationStopsEveryPluginPromptly() async throws {
        let csv = try Self.largeCSV(rows: 400_000)
        defer { try? FileManager.default.removeItem(atPath: (csv as NSString).deletingLastPathComponent) }
        try await FixtureServer.with { server, base in
            server.inject(.slow(seconds: 5), on: "/", times: 1000)
            for (id, options) in Self.cases(base, csv: csv) {
                var given = options
                if id == "singer" { given["config"] = .tree([("total", .scalar("50000000"))]) }
                let plugin = Self.plugin(id)
                let task = Task { try await PluginHarness.run(plugin, given) }
                try await Task.sleep(for: .milliseconds(300))
                let cancelled = Date()
                task.cancel()
                let result = await task.result
                #expect(Date().timeIntervalSince(cancelled) < 3,
                        "\(id) stopped within 3 s of cancellation (took \(Date().timeIntervalSince(cancelled)) s)")
                if case .success(let output) = result {
                    Issue.record("\(id) finished with \(output.records.count) records instead of stopping")
                }
            }
        }
    }

    static func largeCSV(rows: Int) throws -> String {
        let directory = try TestSupport.temporaryDirectory()
        let path = directory + "/large.csv"
        var text = "id,district,count\n"
        text.reserveCapacity(rows * 24)
        for index in 1...rows { text += "\(index),\(FixtureServer.districts[index % 5]),\(index % 97)\n" }
        try TestSupport.write(text, to: path)
        return path
    }
}
