import Foundation

/// The static HTML pages of `public/`: plain, valid, accessible HTML that works without JavaScript (the index's
/// search box filters the list as you type when scripts run; without them the full list is there to read).
enum SiteRenderer {
    struct DatasetSummary {
        var dataset: String
        var latest: VersionRecord
        var versionCount: Int
        /// The latest version's `datapackage.json`.
        var package: [String: Any]
    }

    /// Interface labels in the catalog's language (`language:` in catalog.yaml): Korean or English.
    struct Labels {
        let values: [String: String]
        subscript(_ key: String) -> String { values[key] ?? key }

        static func forLanguage(_ language: String?) -> Labels {
            let korean = (language ?? "en").lowercased().hasPrefix("ko")
            let english: [String: String] = [
                "datasets": "Datasets", "search": "Search datasets", "none": "No dataset has been published yet.",
                "version": "version", "rows": "rows", "updated": "updated", "latest": "Latest version",
                "downloads": "Downloads", "format": "Format", "file": "File", "size": "Size", "versions": "Versions",
                "published": "Published", "changes": "Changes", "schema": "Schema", "field": "Field", "type": "Type",
                "description": "Description", "governance": "Governance", "license": "License", "keywords": "Keywords",
                "chart": "Rows per version", "withdrawn": "withdrawn", "first": "first release",
                "metadata": "Metadata", "publishedBy": "Published by", "noMatch": "No dataset matches.",
                "machine": "For machines",
            ]
            let hangul: [String: String] = [
                "datasets": "데이터셋", "search": "데이터셋 검색", "none": "아직 공개된 데이터셋이 없습니다.",
                "version": "버전", "rows": "행", "updated": "갱신", "latest": "최신 버전", "downloads": "내려받기",
                "format": "형식", "file": "파일", "size": "크기", "versions": "버전 이력", "published": "공개일",
                "changes": "변경 사항", "schema": "스키마", "field": "필드", "type": "유형", "description": "설명",
                "governance": "개인정보 보호 처리", "license": "이용허락", "keywords": "키워드", "chart": "버전별 행 수",
                "withdrawn": "철회됨", "first": "최초 공개", "metadata": "메타데이터", "publishedBy": "제공",
                "noMatch": "일치하는 데이터셋이 없습니다.", "machine": "기계 판독용",
            ]
            return Labels(values: korean ? hangul : english)
        }
    }

    static func escape(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }

    static func page(title: String, language: String, head: String = "", body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="\(escape(language))">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <style>
        body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1a1a1a}
        table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #ccc}
        code{font-size:.85em;word-break:break-all}a{color:#0645ad}ul.datasets{padding-left:1.2rem}
        ul.datasets li{margin:.6rem 0}.muted{color:#555}input[type=search]{font-size:1rem;padding:.3rem;width:20rem;max-width:100%}
        svg text{font-size:11px;fill:#333}
        </style>
        \(head)</head>
        <body>
        \(body)
        </body>
        </html>

        """
    }

    static func indexPage(datasets: [DatasetSummary], config: CatalogConfig, hasDumps: Bool = false) -> String {
        let labels = Labels.forLanguage(config.language)
        var body = "<header><h1>\(escape(config.title))</h1>"
        if let description = config.description { body += "<p>\(escape(description))</p>" }
        body += "</header>\n<main>\n<h2 id=\"datasets\">\(labels["datasets"])</h2>\n"
        if datasets.isEmpty {
            body += "<p>\(labels["none"])</p>\n"
        } else {
            body += "<p><label for=\"search\">\(labels["search"])</label> "
            body += "<input type=\"search\" id=\"search\" autocomplete=\"off\" aria-controls=\"dataset-list\"></p>\n"
            body += "<p id=\"no-match\" hidden>\(labels["noMatch"])</p>\n"
            body += "<ul class=\"datasets\" id=\"dataset-list\" aria-labelledby=\"datasets\">\n"
            for summary in datasets.sorted(by: { $0.latest.title < $1.latest.title }) {
                let keywords = summary.package["keywords"] as? [String] ?? []
                let description = summary.package["description"] as? String ?? ""
                let searchable = ([summary.dataset, summary.latest.title, description] + keywords).joined(separator: " ")
                    .lowercased()
                body += "<li data-search=\"\(escape(searchable))\"><a href=\"datasets/\(escape(summary.dataset))/index.html\">"
                body += "\(escape(summary.latest.title))</a><br><span class=\"muted\">\(labels["version"]) "
                body += "\(summary.latest.number) · \(summary.latest.rowCount) \(labels["rows"]) · \(labels["updated"]) "
                body += "\(escape(String(Timestamp.string(summary.latest.createdAt).prefix(10))))"
                if !keywords.isEmpty { body += " · " + keywords.map(escape).joined(separator: ", ") }
                body += "</span></li>\n"
            }
            body += "</ul>\n"
        }
        body += "<h2>\(labels["machine"])</h2>\n<ul>\n"
        body += "<li><a href=\"catalog.jsonld\">catalog.jsonld</a> (DCAT-AP 3)</li>\n"
        if hasDumps { body += "<li><a href=\"dumps/index.json\">dumps/index.json</a> (whole-catalog downloads)</li>\n" }
        body += "<li><a href=\"api/3/action/package_list\">api/3/action/package_list</a> (CKAN API, with sdata serve)</li>\n"
        body += "</ul>\n</main>\n"
        if let publisher = config.publisher {
            body += "<footer><p>\(labels["publishedBy"]) \(escape(publisher.name))</p></footer>\n"
        }
        // Progressive enhancement: filtering as you type; the page is complete without it.
        body += """
            <script>
            (function () {
              var input = document.getElementById("search");
              if (!input) { return; }
              var items = document.querySelectorAll("#dataset-list li");
              input.addEventListener("input", function () {
                var words = input.value.toLowerCase().split(/\\s+/).filter(Boolean);
                var shown = 0;
                items.forEach(function (item) {
                  var text = item.getAttribute("data-search");
                  var match = words.every(function (word) { return text.indexOf(word) !== -1; });
                  item.hidden = !match;
                  if (match) { shown += 1; }
                });
                document.getElementById("no-match").hidden = shown !== 0;
              });
            })();
            </script>
            """
        return page(title: config.title, language: config.language ?? "en", body: body)
    }

    static func datasetPage(dataset: String, versions: [VersionRecord], packages: [Int: [String: Any]],
                            governance: [String: Any]?, config: CatalogConfig) -> String {
        let labels = Labels.forLanguage(config.language)
        let latest = versions.last { $0.withdrawnAt == nil } ?? versions[versions.count - 1]
        let package = packages[latest.number] ?? [:]
        let description = package["description"] as? String ?? ""
        let keywords = package["keywords"] as? [String] ?? []
        let licence = (package["licenses"] as? [[String: Any]])?.first
        var body = "<nav><a href=\"../../index.html\">\(escape(config.title))</a></nav>\n<main>\n"
        body += "<h1>\(escape(latest.title))</h1>\n"
        if !description.isEmpty { body += "<p>\(escape(description))</p>\n" }
        body += "<dl>\n"
        if let licence {
            let name = escape(licence["title"] as? String ?? licence["name"] as? String ?? "")
            let link = (licence["path"] as? String).map { "<a href=\"\(escape($0))\">\(name)</a>" } ?? name
            body += "<dt>\(labels["license"])</dt><dd>\(link)</dd>\n"
        }
        if !keywords.isEmpty { body += "<dt>\(labels["keywords"])</dt><dd>\(keywords.map(escape).joined(separator: ", "))</dd>\n" }
        body += "<dt>\(labels["latest"])</dt><dd>\(latest.number) · \(latest.rowCount) \(labels["rows"]) · "
        body += "\(escape(Timestamp.string(latest.createdAt)))</dd>\n</dl>\n"

        body += "<h2>\(labels["downloads"])</h2>\n<table>\n"
        body += "<thead><tr><th scope=\"col\">\(labels["format"])</th><th scope=\"col\">\(labels["file"])</th>"
        body += "<th scope=\"col\">\(labels["size"])</th><th scope=\"col\">SHA-256</th></tr></thead>\n<tbody>\n"
        for distribution in latest.distributions {
            let file = distribution.path.split(separator: "/").last.map(String.init) ?? distribution.path
            body += "<tr><td>\(escape(distribution.format.uppercased()))</td>"
            body += "<td><a href=\"\(latest.number)/\(escape(file))\" download>\(escape(file))</a></td>"
            body += "<td>\(humanSize(distribution.bytes)) (\(distribution.bytes) B)</td>"
            body += "<td><code>\(distribution.sha256)</code></td></tr>\n"
        }
        body += "</tbody>\n</table>\n"
        body += "<p>\(labels["metadata"]): <a href=\"\(latest.number)/datapackage.json\">datapackage.json</a> · "
        body += "<a href=\"\(latest.number)/governance.json\">governance.json</a></p>\n"

        let fields = SiteRenderer.fields(package)
        if !fields.isEmpty {
            body += "<h2>\(labels["schema"])</h2>\n<table>\n<thead><tr><th scope=\"col\">\(labels["field"])</th>"
            body += "<th scope=\"col\">\(labels["type"])</th><th scope=\"col\">\(labels["description"])</th></tr></thead>\n<tbody>\n"
            for field in fields {
                body += "<tr><td><code>\(escape(field.name))</code></td><td>\(escape(field.type))</td>"
                body += "<td>\(escape(field.description))</td></tr>\n"
            }
            body += "</tbody>\n</table>\n"
        }
        if let governance { body += governanceSection(governance, labels: labels) }

        body += "<h2>\(labels["versions"])</h2>\n" + chart(versions, labels: labels)
        body += "<table>\n<thead><tr><th scope=\"col\">\(labels["version"])</th><th scope=\"col\">\(labels["published"])</th>"
        body += "<th scope=\"col\">\(labels["rows"])</th><th scope=\"col\">\(labels["changes"])</th></tr></thead>\n<tbody>\n"
        var previous: VersionRecord?
        var changes: [Int: String] = [:]
        for version in versions {
            changes[version.number] = changelog(from: previous, to: version, packages: packages, labels: labels)
            if version.withdrawnAt == nil { previous = version }
        }
        for version in versions.reversed() {
            if let withdrawn = version.withdrawnAt {
                body += "<tr><td>\(version.number) (\(labels["withdrawn"]) \(escape(String(Timestamp.string(withdrawn).prefix(10)))): "
                body += "\(escape(version.withdrawnReason ?? ""))</td>"
            } else {
                body += "<tr><td><a href=\"\(version.number)/datapackage.json\">\(version.number)</a></td>"
            }
            body += "<td>\(escape(Timestamp.string(version.createdAt)))</td><td>\(version.rowCount)</td>"
            body += "<td>\(escape(changes[version.number] ?? ""))</td></tr>\n"
        }
        body += "</tbody>\n</table>\n</main>\n"
        let head = "<script type=\"application/ld+json\">\n\(schemaOrg(dataset: dataset, latest: latest, package: package, config: config))\n</script>\n"
        return page(title: "\(latest.title) — \(config.title)", language: config.language ?? "en", head: head, body: body)
    }

    static func fields(_ package: [String: Any]) -> [(name: String, type: String, description: String)] {
        let resources = package["resources"] as? [[String: Any]] ?? []
        let schema = resources.first { $0["schema"] != nil }?["schema"] as? [String: Any]
        return (schema?["fields"] as? [[String: Any]] ?? []).map { field in
            (field["name"] as? String ?? "", field["type"] as? String ?? "string", field["description"] as? String ?? "")
        }
    }

    /// What changed from the previous published version: rows, and fields added or removed.
    static func changelog(from previous: VersionRecord?, to version: VersionRecord, packages: [Int: [String: Any]],
                          labels: Labels) -> String {
        guard let previous else { return labels["first"] }
        var parts: [String] = []
        let delta = version.rowCount - previous.rowCount
        parts.append("\(delta >= 0 ? "+" : "")\(delta) \(labels["rows"])")
        let before = Set(fields(packages[previous.number] ?? [:]).map(\.name))
        let after = Set(fields(packages[version.number] ?? [:]).map(\.name))
        let added = after.subtracting(before).sorted(), removed = before.subtracting(after).sorted()
        if !added.isEmpty { parts.append("+ " + added.joined(separator: ", ")) }
        if !removed.isEmpty { parts.append("− " + removed.joined(separator: ", ")) }
        return parts.joined(separator: "; ")
    }

    static func governanceSection(_ report: [String: Any], labels: Labels) -> String {
        var text = "<h2>\(labels["governance"])</h2>\n<ul>\n"
        if let classification = report["classification"] as? String { text += "<li>classification: \(escape(classification))</li>\n" }
        for rule in report["rules"] as? [[String: Any]] ?? [] {
            let name = rule["rule"] as? String ?? "?"
            let fields = (rule["fields"] as? [String] ?? []).map(escape).joined(separator: ", ")
            var line = "<li><code>\(escape(name))</code>" + (fields.isEmpty ? "" : " (\(fields))")
            if let details = rule["details"] as? [String: Any], !details.isEmpty {
                line += ": " + details.keys.sorted().map { "\(escape($0)) \(escape("\(details[$0]!)"))" }.joined(separator: ", ")
            }
            text += line + "</li>\n"
        }
        if let suppressed = report["rows_suppressed"] as? Int, let rowsIn = report["rows_in"] as? Int {
            text += "<li>rows suppressed: \(suppressed) of \(rowsIn)</li>\n"
        }
        if let gate = report["pii_gate"] as? [String: Any] {
            text += "<li>PII gate (\(escape(gate["mode"] as? String ?? ""))): \((gate["passed"] as? Bool ?? false) ? "passed" : "findings")</li>\n"
        }
        return text + "</ul>\n"
    }

    /// A small bar chart of rows per version, as inline SVG with a text alternative.
    static func chart(_ versions: [VersionRecord], labels: Labels) -> String {
        let shown = versions.suffix(30)
        guard !shown.isEmpty else { return "" }
        let maximum = max(1, shown.map(\.rowCount).max() ?? 1)
        let width = 24, gap = 6, height = 100
        let total = shown.count * (width + gap) + gap
        let summary = shown.map { "v\($0.number): \($0.rowCount)" }.joined(separator: ", ")
        var svg = "<figure><svg role=\"img\" aria-labelledby=\"chart-title\" width=\"\(total)\" height=\"\(height + 30)\" "
        svg += "viewBox=\"0 0 \(total) \(height + 30)\" xmlns=\"http://www.w3.org/2000/svg\">"
        svg += "<title id=\"chart-title\">\(labels["chart"]): \(escape(summary))</title>"
        for (index, version) in shown.enumerated() {
            let barHeight = max(1, version.rowCount * height / maximum)
            let x = gap + index * (width + gap)
            let fill = version.withdrawnAt == nil ? "#3a6ea5" : "#bbb"
            svg += "<rect x=\"\(x)\" y=\"\(height - barHeight + 5)\" width=\"\(width)\" height=\"\(barHeight)\" fill=\"\(fill)\">"
            svg += "<title>v\(version.number): \(version.rowCount) \(labels["rows"])</title></rect>"
            svg += "<text x=\"\(x + width / 2)\" y=\"\(height + 22)\" text-anchor=\"middle\">v\(version.number)</text>"
        }
        svg += "</svg><figcaption>\(labels["chart"])</figcaption></figure>\n"
        return svg
    }

    /// schema.org `Dataset` for search engines (Google Dataset Search).
    static func schemaOrg(dataset: String, latest: VersionRecord, package: [String: Any], config: CatalogConfig) -> String {
        let base = (config.baseURL ?? "").hasSuffix("/") ? config.baseURL! : (config.baseURL ?? "") + "/"
        var object: [String: Any] = [
            "@context": "https://schema.org/", "@type": "Dataset", "name": latest.title,
            "description": (package["description"] as? String).flatMap { $0.count >= 50 ? $0 : nil }
                ?? "\(latest.title): \(latest.rowCount) rows, version \(latest.number), published with S-Data.",
            "url": base + "datasets/\(dataset)/", "identifier": dataset, "version": String(latest.number),
            "dateModified": Timestamp.string(latest.createdAt), "keywords": package["keywords"] as? [String] ?? [],
            "isAccessibleForFree": true, "inLanguage": config.language ?? "en",
            "distribution": latest.distributions.map { distribution -> [String: Any] in
                ["@type": "DataDownload", "encodingFormat": distribution.mediaType,
                 "contentUrl": base + distribution.path, "contentSize": "\(distribution.bytes) B"]
            },
        ]
        if let licence = (package["licenses"] as? [[String: Any]])?.first {
            object["license"] = licence["path"] as? String ?? licence["name"] as? String ?? ""
        }
        if let publisher = config.publisher {
            object["creator"] = ["@type": "Organization", "name": publisher.name] as [String: Any]
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        // `</` must not close the script element early.
        return String(decoding: data, as: UTF8.self).replacing("</", with: "<\\/")
    }

    static func humanSize(_ bytes: Int) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        if bytes < 1 << 20 { return String(format: "%.1f KiB", Double(bytes) / 1024) }
        if bytes < 1 << 30 { return String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
        return String(format: "%.2f GiB", Double(bytes) / 1_073_741_824)
    }
}
