import Foundation
import Testing
import SDataCore
import SDataPluginAPI
import Singer

/// The `singer` plugin with a small tap of our own (every message type, state, failures) and with a real tap from
/// PyPI (`tap-rest-api-msdk`, installed by scripts/test.sh) against the loopback fixture server.
@Suite(.serialized) struct SingerTests {
    static let fakeTap = TestSupport.fixtures + "/singer/fake_tap.py"

    static func options(_ config: [(String, ConfigNode)], stream: String? = "cases") -> [String: ConfigNode] {
        var options: [String: ConfigNode] = ["command": .list(["python3", fakeTap]), "config": .tree(config)]
        if let stream { options["stream"] = .scalar(stream) }
        return options
    }

    @Test func readsRecordsAndKeepsTheLastStateForTheNextRun() async throws {
        let first = try await PluginHarness.run(SingerTap.self, Self.options([("total", .scalar("1200"))]))
        #expect(first.records.count == 1200)
        #expect(first.records[0]["place.lat"] == .number(37.5))
        #expect(first.records[0]["tags"] == .string("[\"a\",\"b\"]"))
        #expect(first.records[0]["district"] == .string("마포구"))
        #expect(first.savedState == "{\"bookmarks\":{\"cases\":{\"last_id\":1200}}}")
        // The next run gets the state back with --state and reads only what is new.
        let next = try await PluginHarness.run(SingerTap.self, Self.options([("total", .scalar("1250"))]),
                                               state: first.savedState)
        #expect(next.records.map { $0["id"] } == (1201...1250).map { Value.integer(Int64($0)) })
    }

    @Test func aFailingTapFailsTheRunAndSavesNoState() async throws {
        let error = await PluginHarness.failure(SingerTap.self,
                                                Self.options([("total", .scalar("900")), ("fail_after", .scalar("600"))]))
        #expect("\(error.map { "\($0)" } ?? "")".contains("exited with status 3"))
    }

    @Test func severalStreamsNeedAChoice() async throws {
        let mixed = Self.options([("total", .scalar("300")), ("with_audit", .scalar("true"))], stream: nil)
        let error = await PluginHarness.failure(SingerTap.self, mixed)
        #expect("\(error.map { "\($0)" } ?? "")".contains("several streams (audit, cases)"))
        let chosen = try await PluginHarness.run(SingerTap.self,
                                                 Self.options([("total", .scalar("300")), ("with_audit", .scalar("true"))]))
        #expect(chosen.records.count == 300)
    }

    @Test func aMissingTapIsAClearError() async throws {
        let error = await PluginHarness.failure(SingerTap.self, ["command": .list(["tap-that-does-not-exist-xyz"])])
        #expect("\(error.map { "\($0)" } ?? "")".contains("tap-that-does-not-exist-xyz"))
    }

    /// The real thing: a Singer tap published on PyPI, reading the loopback server's cursor pagination.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["SDATA_SINGER_TAP"] != nil))
    func aRealTapFromPyPIReadsEveryPage() async throws {
        let tap = ProcessInfo.processInfo.environment["SDATA_SINGER_TAP"]!
        try await FixtureServer.with { server, base in
            let config: [(String, ConfigNode)] = [
                ("api_url", .scalar(base)),
                ("next_page_token_path", .scalar("$.meta.next_cursor")),
                ("pagination_next_page_param", .scalar("cursor")),
                ("streams", ConfigNode(.sequence([.tree([
                    ("name", .scalar("items")), ("path", .scalar("/json/cursor")), ("records_path", .scalar("$.items[*]")),
                    ("primary_keys", .list(["id"])),
                ])]))),
            ]
            let output = try await PluginHarness.run(SingerTap.self, [
                "command": .list([tap]), "config": .tree(config), "stream": .scalar("items"),
            ])
            #expect(output.records.count == 250)
            #expect(Set(output.records.compactMap { $0["id"] }).count == 250)
            #expect(server.requests(containing: "/json/cursor") >= 3)
        }
    }
}
