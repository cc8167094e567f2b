import Foundation
import Testing
import SDataCatalog
import SDataCore
import SDataRunner

/// What harvesters read: `catalog.jsonld` in DCAT-AP 3, checked with pyshacl against the SEMIC shapes.
@Suite(.serialized) struct PublicCatalogTests {
    static let shapes = TestSupport.fixtures + "/dcat-ap-3.0.1"

    @Test func catalogJSONLDConformsToDCATAP3AndLinksVersions() async throws {
        let project = try EndToEndTests.exampleProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        _ = try await EndToEndTests.runAll(project)
        // A second version of one dataset, so that versions link to each other.
        let sample = project + "/pipelines/samples/taipei-covid19-districts.json"
        let original = try TestSupport.read(sample)
        try TestSupport.write(original.replacing("\"300\"", with: "\"301\""), to: sample)
        let summaries = try await EndToEndTests.runAll(project)
        #expect(summaries.contains { $0.run.pipeline == "taipei-covid19-districts" && $0.run.version == 2 })
        let file = project + "/catalog/public/catalog.jsonld"
        let pyshacl = try #require(TestSupport.pyshacl, "scripts/test.sh installs pyshacl into .venv")
        for shapesFile in ["shapes.ttl", "range.ttl"] {
            let result = try TestSupport.execute(pyshacl, ["-s", Self.shapes + "/" + shapesFile, "-df", "json-ld", file])
            #expect(result.status == 0 && result.stdout.contains("Conforms: True"),
                    "\(shapesFile): \(result.stdout.prefix(3000))")
        }
        let text = try TestSupport.read(file)
        #expect(text.contains("\"dcat:previousVersion\""))
        #expect(text.contains("datasets/taipei-covid19-districts/2/#dataset"))
        #expect(text.contains("\"dcat:hasCurrentVersion\""))
        #expect(text.contains("checksumAlgorithm_sha256"))
        #expect(text.contains("data-theme/HEAL"), "the spec's theme: health becomes the EU data theme")
        // Every checksum in the catalog is the published file's.
        let json = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        let graph = json["@graph"] as! [[String: Any]]
        let distributions = graph.filter { ($0["@type"] as? String) == "dcat:Distribution" }
        #expect(!distributions.isEmpty)
        for distribution in distributions {
            let url = (distribution["dcat:downloadURL"] as! [String: Any])["@id"] as! String
            let relative = String(url.dropFirst("http://localhost:8080/".count))
            let data = try #require(FileManager.default.contents(atPath: project + "/catalog/public/" + relative), "\(url)")
            let checksum = (distribution["spdx:checksum"] as! [String: Any])["spdx:checksumValue"] as! [String: Any]
            #expect(checksum["@value"] as? String == Hex.string(SHA256Digest.of(data)), "\(url)")
        }
    }

    /// Every format holds the same rows as the CSV, read back by independent readers (openpyxl, pyarrow, Python's json).
    @Test func everyFormatHoldsTheSameRowsAsTheCSV() async throws {
        let project = try EndToEndTests.exampleProject()
        defer { try? FileManager.default.removeItem(atPath: project) }
        _ = try await EndToEndTests.runAll(project)
        let python = try #require(TestSupport.ckanPython, "scripts/test.sh installs openpyxl and pyarrow into .venv")
        let daily = project + "/catalog/public/datasets/seoul-covid19-daily/latest/seoul-covid19-daily"
        let visits = project + "/catalog/public/datasets/seoul-tracing-visits/latest/seoul-tracing-visits"
        let script = """
            import csv, json, sys, openpyxl
            daily, visits = sys.argv[1], sys.argv[2]
            rows = list(csv.reader(open(daily + ".csv", encoding="utf-8")))
            excel = list(csv.reader(open(daily + ".excel.csv", encoding="utf-8-sig", newline="")))
            assert excel == rows, "csv-excel differs"
            assert open(daily + ".excel.csv", "rb").read(3) == b"\\xef\\xbb\\xbf", "no BOM"
            sheet = openpyxl.load_workbook(daily + ".xlsx").active
            cells = [["" if c is None else str(c) for c in row] for row in sheet.iter_rows(values_only=True)]
            def same(a, b):
                try: return float(a) == float(b)
                except ValueError: return a == b
            assert len(cells) == len(rows), "xlsx rows"
            assert all(same(x, y) for r, s in zip(rows, cells) for x, y in zip(r, s)), "xlsx values"
            lines = [json.loads(l) for l in open(daily + ".jsonl", encoding="utf-8")]
            assert len(lines) == len(rows) - 1 and list(lines[0].keys()) == rows[0], "jsonl"
            geo = json.load(open(visits + ".geojson", encoding="utf-8"))
            points = list(csv.reader(open(visits + ".csv", encoding="utf-8")))
            assert geo["type"] == "FeatureCollection" and len(geo["features"]) == len(points) - 1, "geojson"
            lat, lon = points[0].index("lat"), points[0].index("lon")
            first = geo["features"][0]["geometry"]["coordinates"]
            assert first == [float(points[1][lon]), float(points[1][lat])], "geojson coordinates"
            import pyarrow.parquet as pq
            for base, table in ((daily, rows), (visits, points)):
                parquet = pq.read_table(base + ".parquet").to_pylist()
                assert len(parquet) == len(table) - 1, "parquet rows " + base
                header = table[0]
                for record, line in zip(parquet, table[1:]):
                    assert list(record.keys()) == header, "parquet columns"
                    for name, text in zip(header, line):
                        value = record[name]
                        if value is None:
                            assert text == "", (name, text)
                        elif isinstance(value, float):
                            assert float(text) == value, (name, text, value)
                        else:
                            assert str(value) == text, (name, text, value)
                statistics = pq.ParquetFile(base + ".parquet").metadata.row_group(0).column(0).statistics
                assert statistics is not None and statistics.has_min_max, "parquet statistics"
            print("ok", len(rows) - 1, len(points) - 1)
            """
        let result = try await TestSupport.executeAsync(python, ["-c", script, daily, visits])
        #expect(result.status == 0 && result.stdout.hasPrefix("ok"), "\(result.stdout)\(result.stderr)")
    }

    @Test func diffReportsRowsAndFieldsBetweenVersions() async throws {
        let project = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: project) }
        try TestSupport.write("id,name,value\n1,a,10\n2,b,20\n3,c,30\n", to: project + "/data.csv")
        try TestSupport.write("""
            id: keyed
            source: { plugin: file, with: { path: data.csv } }
            schema:
              fields:
                - { name: id, type: integer }
              additional_fields: allow
              primary_key: [id]
            publish: { license: CC-BY-4.0 }
            """, to: project + "/keyed.yaml")
        let catalog = try Catalog.open(root: project + "/catalog")
        let spec = try TestSupport.spec(project + "/keyed.yaml")
        #expect(await TestSupport.runner(catalog).run(spec).run.version == 1)
        // Row 1 removed, row 2 changed, row 3 kept, row 4 added, a field added.
        try TestSupport.write("id,name,value,note\n2,b,21,x\n3,c,30,y\n4,d,40,z\n", to: project + "/data.csv")
        #expect(await TestSupport.runner(catalog).run(spec).run.version == 2)
        let result = try TestSupport.execute(TestSupport.sdataBinary, ["catalog", "diff", "keyed", "1", "2", "--json",
                                                                       "--catalog", project + "/catalog"])
        #expect(result.status == 0, "\(result.stderr)")
        let diff = try JSONDecoder().decode(VersionDiff.self, from: Data(result.stdout.utf8))
        #expect(diff.matchedBy == "primary key (id)")
        #expect(diff.rowsAdded == 1 && diff.rowsRemoved == 1 && diff.rowsChanged == 1 && diff.rowsUnchanged == 1)
        #expect(diff.fieldsAdded == ["note"] && diff.fieldsRemoved.isEmpty)
        #expect(diff.sampleAdded == ["4"] && diff.sampleRemoved == ["1"] && diff.sampleChanged == ["2"])
        let page = try TestSupport.read(catalog.layout.datasetDirectory("keyed") + "/index.html")
        #expect(page.contains("+ note"), "the changelog on the dataset page names the new field")
        let missing = try TestSupport.execute(TestSupport.sdataBinary, ["catalog", "diff", "keyed", "1", "9",
                                                                        "--catalog", project + "/catalog"])
        #expect(missing.status == 1 && missing.stderr.contains("has no version 9"))
    }

    @Test func geoJSONFromAGeometryColumn() async throws {
        let project = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: project) }
        try TestSupport.write("""
            name,geometry
            plaza,"{""type"": ""Polygon"", ""coordinates"": [[[126.97, 37.56], [126.98, 37.56], [126.98, 37.57], [126.97, 37.56]]]}"
            station,POINT (126.9707 37.5547)
            nowhere,
            broken,"{""type"": ""Blob""}"

            """, to: project + "/shapes.csv")
        try TestSupport.write("""
            id: shapes
            source: { plugin: file, with: { path: shapes.csv } }
            publish: { license: CC-BY-4.0, formats: [csv, geojson] }
            """, to: project + "/shapes.yaml")
        let catalog = try Catalog.open(root: project + "/catalog")
        #expect(await TestSupport.runner(catalog).run(try TestSupport.spec(project + "/shapes.yaml")).run.status == .published)
        let text = try TestSupport.read(catalog.layout.datasetDirectory("shapes") + "/latest/shapes.geojson")
        let json = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        let features = json["features"] as! [[String: Any]]
        let types = features.map { ($0["geometry"] as? [String: Any])?["type"] as? String ?? "null" }
        #expect(types == ["Polygon", "Point", "null", "null"], "\(types)")
        let point = (features[1]["geometry"] as! [String: Any])["coordinates"] as! [Double]
        #expect(point == [126.9707, 37.5547])
        #expect((features[0]["properties"] as! [String: Any])["name"] as? String == "plaza")
        #expect((features[0]["properties"] as! [String: Any])["geometry"] == nil, "the geometry is not repeated as a property")
    }
}
