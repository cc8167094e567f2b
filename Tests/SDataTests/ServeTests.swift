import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import SDataCatalog
import SDataServer

/// `sdata serve` on loopback with a catalog the example pipelines produced: the real `ckanapi` client reads it as it
/// reads CKAN, and the static files answer conditional, ranged and hostile requests properly.
@Suite(.serialized) struct ServeTests {
    static func serve(_ project: String, environment: [String: String] = [:]) async throws -> (Process, Int) {
        let port = 20_000 + Int.random(in: 0..<5000)
        let process = try SchedulerTests.start(["serve", "--port", "\(port)", "--catalog", "catalog"], in: project,
                                               name: "serve", environment: environment)
        let ready = try await SchedulerTests.waitUntil(20) {
            (try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/healthz")!)) != nil
        }
        #expect(ready, "the server answers /healthz")
        return (process, port)
    }

    static func get(_ url: String, headers: [String: String] = [:]) async throws -> (Int, [AnyHashable: Any], Data) {
        var request = URLRequest(url: URL(string: url)!)
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        return (http.statusCode, http.allHeaderFields, data)
    }

    @Test func theRealCKANClientListsShowsSearchesAndPages() async throws {
        let project = try EndToEndTests.exampleProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        _ = try await EndToEndTests.runAll(project)
        let (server, port) = try await Self.serve(project)
        defer { SchedulerTests.stop(server) }
        let python = try #require(TestSupport.ckanPython, "scripts/test.sh installs ckanapi into .venv")
        let script = """
            import json, sys, ckanapi
            ckan = ckanapi.RemoteCKAN(sys.argv[1])
            names = ckan.action.package_list()
            package = ckan.action.package_show(id="seoul-covid19-daily")
            search = ckan.action.package_search(q="covid", rows=1, start=0)
            search2 = ckan.action.package_search(q="covid", rows=1, start=1)
            csv = [r for r in package["resources"] if r["format"] == "CSV"][0]
            page1 = ckan.action.datastore_search(resource_id=csv["id"], limit=2, offset=0)
            page2 = ckan.action.datastore_search(resource_id=csv["id"], limit=2, offset=2)
            everything = ckan.action.datastore_search(resource_id=csv["id"], limit=1000)
            shown = ckan.action.resource_show(id=csv["id"])
            orgs = ckan.action.organization_list()
            with_resources = ckan.action.current_package_list_with_resources(limit=10)
            try:
                ckan.action.package_show(id="no-such-dataset")
                missing = "found"
            except ckanapi.NotFound:
                missing = "not found"
            try:
                ckan.action.datastore_search(resource_id=csv["id"], limit="many")
                invalid = "accepted"
            except ckanapi.ValidationError:
                invalid = "validation error"
            print(json.dumps({
                "names": names, "title": package["title"], "resources": len(package["resources"]),
                "hash": csv["hash"], "size": csv["size"], "count": search["count"],
                "first": [p["name"] for p in search["results"]], "second": [p["name"] for p in search2["results"]],
                "page1": [r["_id"] for r in page1["records"]], "page2": [r["_id"] for r in page2["records"]],
                "total": page1["total"], "all": len(everything["records"]), "fields": [f["id"] for f in page1["fields"]],
                "shown": shown["id"], "orgs": orgs, "with_resources": len(with_resources),
                "missing": missing, "invalid": invalid,
            }))
            """
        let result = try await TestSupport.executeAsync(python, ["-c", script, "http://127.0.0.1:\(port)"])
        #expect(result.status == 0, "\(result.stderr)")
        let answer = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        let names = answer["names"] as? [String] ?? []
        #expect(names.contains("seoul-covid19-daily") && names.contains("taipei-covid19-districts"))
        #expect((answer["hash"] as? String)?.hasPrefix("sha256:") == true)
        #expect((answer["count"] as? Int ?? 0) >= 2, "at least two datasets mention covid")
        #expect(answer["first"] as? [String] != answer["second"] as? [String], "search pages with start")
        #expect(answer["page1"] as? [Int] == [1, 2] && answer["page2"] as? [Int] == [3, 4])
        #expect(answer["total"] as? Int == answer["all"] as? Int)
        #expect((answer["fields"] as? [String])?.first == "_id")
        #expect(answer["missing"] as? String == "not found")
        #expect(answer["invalid"] as? String == "validation error")
        #expect((answer["orgs"] as? [String])?.count == 1)
    }

    @Test func staticFilesAnswerConditionalRangedAndHostileRequests() async throws {
        let project = try EndToEndTests.exampleProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        _ = try await EndToEndTests.runAll(project)
        let (server, port) = try await Self.serve(project)
        defer { SchedulerTests.stop(server) }
        let base = "http://127.0.0.1:\(port)"
        let file = base + "/datasets/seoul-covid19-daily/latest/seoul-covid19-daily.csv"
        let (status, headers, body) = try await Self.get(file)
        #expect(status == 200 && !body.isEmpty)
        let etag = try #require(headers["Etag"] as? String ?? headers["ETag"] as? String)
        let (notModified, _, _) = try await Self.get(file, headers: ["If-None-Match": etag])
        #expect(notModified == 304)
        let (partial, _, slice) = try await Self.get(file, headers: ["Range": "bytes=0-9"])
        #expect(partial == 206 && slice == body.prefix(10))
        let (unsatisfiable, _, _) = try await Self.get(file, headers: ["Range": "bytes=99999999-"])
        #expect(unsatisfiable == 416)
        let (index, _, _) = try await Self.get(base + "/")
        #expect(index == 200)
        for hostile in ["/../state.sqlite", "/..%2fstate.sqlite", "/datasets/../../state.sqlite", "/%2e%2e/secrets.env"] {
            let (code, _, data) = try await Self.get(base + hostile)
            #expect((400..<500).contains(code), "\(hostile) → \(code)")
            #expect(!String(decoding: data, as: UTF8.self).contains("SQLite format"), "\(hostile) must not leak the store")
        }
        let (unknown, _, _) = try await Self.get(base + "/api/3/action/package_create")
        #expect(unknown == 400, "nothing that changes state is offered")
    }

    @Test func gzipForTextAndABearerTokenForWhatChangesState() async throws {
        let project = try EndToEndTests.exampleProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        _ = try await EndToEndTests.runAll(project)
        let token = "admin-token-\(UUID().uuidString)"
        let (server, port) = try await Self.serve(project, environment: ["SDATA_SECRET_ADMIN_TOKEN": token])
        defer { SchedulerTests.stop(server) }
        let base = "http://127.0.0.1:\(port)"
        let gzip = try await TestSupport.executeAsync("/usr/bin/curl", [
            "-s", "-D", "-", "-o", project + "/body.gz", "-H", "Accept-Encoding: gzip",
            base + "/datasets/seoul-covid19-daily/latest/seoul-covid19-daily.csv"])
        #expect(gzip.stdout.lowercased().contains("content-encoding: gzip"), "\(gzip.stdout)")
        let unzipped = try await TestSupport.executeAsync("/bin/gzip", ["-dc", project + "/body.gz"])
        #expect(unzipped.stdout == (try TestSupport.read(project + "/catalog/public/datasets/seoul-covid19-daily/latest/seoul-covid19-daily.csv")))
        let plain = try await TestSupport.executeAsync("/usr/bin/curl", ["-s", "-D", "-", "-o", "/dev/null",
                                                                         base + "/datasets/seoul-covid19-daily/latest/seoul-covid19-daily.csv"])
        #expect(!plain.stdout.lowercased().contains("content-encoding"), "no gzip unless asked for")

        func post(_ authorization: String?) async throws -> (Int, String) {
            var request = URLRequest(url: URL(string: base + "/admin/runs/taipei-covid19-districts")!)
            request.httpMethod = "POST"
            if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as! HTTPURLResponse).statusCode, String(decoding: data, as: UTF8.self))
        }
        #expect(try await post(nil).0 == 401)
        #expect(try await post("Bearer wrong-token").0 == 401)
        let catalog = try Catalog.open(root: project + "/catalog")
        let before = try await catalog.store.runs(pipeline: "taipei-covid19-districts", limit: 10).count
        let (status, body) = try await post("Bearer " + token)
        #expect(status == 200 && body.contains("\"unchanged\""), "\(body)")
        #expect(try await catalog.store.runs(pipeline: "taipei-covid19-districts", limit: 10).count == before + 1)
        #expect(!body.contains(token))
    }

    @Test func withoutATokenTheAdminEndpointsAreOff() async throws {
        let project = try EndToEndTests.exampleProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let (server, port) = try await Self.serve(project, environment: ["SDATA_SECRETS_FILE": "/nonexistent"])
        defer { SchedulerTests.stop(server) }
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/admin/runs/taipei-covid19-districts")!)
        request.httpMethod = "POST"
        request.setValue("Bearer anything", forHTTPHeaderField: "Authorization")
        let (_, response) = try await URLSession.shared.data(for: request)
        #expect((response as! HTTPURLResponse).statusCode == 403)
    }

    @Test func theOpenAPIDescriptionIsValidAndListsEveryAction() async throws {
        let file = TestSupport.packageRoot + "/docs/openapi.yaml"
        let python = try #require(TestSupport.ckanPython, "scripts/test.sh installs openapi-spec-validator into .venv")
        let result = try await TestSupport.executeAsync(python, ["-m", "openapi_spec_validator", file])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let text = try TestSupport.read(file)
        for action in CatalogServer.ckanActions { #expect(text.contains(action), "\(action) is documented") }
    }
}
