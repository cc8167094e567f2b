import Foundation

/// The static HTML pages of `public/`: plain, valid, accessible HTML that works without JavaScript.
enum SiteRenderer {
    struct DatasetSummary {
        var dataset: String
        var latest: VersionRecord
        var versionCount: Int
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

    static func page(title: String, language: String, body: String) -> String {
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
        code{font-size:.85em;word-break:break-all}a{color:#0645ad}
        </style>
        </head>
        <body>
        \(body)
        </body>
        </html>

        """
    }

    static func indexPage(datasets: [DatasetSummary], config: CatalogConfig) -> String {
        var body = "<header><h1>\(escape(config.title))</h1>"
        if let description = config.description { body += "<p>\(escape(description))</p>" }
        body += "</header>\n<main>\n<h2>Datasets</h2>\n"
        if datasets.isEmpty {
            body += "<p>No dataset has been published yet.</p>\n"
        } else {
            body += "<ul>\n"
            for summary in datasets {
                body += "<li><a href=\"datasets/\(escape(summary.dataset))/index.html\">\(escape(summary.latest.title))</a>"
                body += " — version \(summary.latest.number), \(summary.latest.rowCount) rows, "
                body += "updated \(escape(Timestamp.string(summary.latest.createdAt)))</li>\n"
            }
            body += "</ul>\n"
        }
        body += "</main>\n"
        if let publisher = config.publisher { body += "<footer><p>Published by \(escape(publisher.name))</p></footer>" }
        return page(title: config.title, language: config.language ?? "en", body: body)
    }

    static func datasetPage(dataset: String, versions: [VersionRecord], config: CatalogConfig) -> String {
        let latest = versions.last { $0.withdrawnAt == nil } ?? versions[versions.count - 1]
        var body = "<nav><a href=\"../../index.html\">\(escape(config.title))</a></nav>\n<main>\n"
        body += "<h1>\(escape(latest.title))</h1>\n"
        body += "<h2>Latest version: \(latest.number)</h2>\n"
        body += "<p><a href=\"latest/datapackage.json\">Data Package (datapackage.json)</a> · "
        body += "<a href=\"latest/governance.json\">Governance report</a></p>\n"
        body += "<table>\n<caption>Downloads of version \(latest.number)</caption>\n"
        body += "<thead><tr><th scope=\"col\">Format</th><th scope=\"col\">File</th><th scope=\"col\">Bytes</th>"
        body += "<th scope=\"col\">SHA-256</th></tr></thead>\n<tbody>\n"
        for distribution in latest.distributions {
            let file = distribution.path.split(separator: "/").last.map(String.init) ?? distribution.path
            body += "<tr><td>\(escape(distribution.format.uppercased()))</td>"
            body += "<td><a href=\"\(latest.number)/\(escape(file))\">\(escape(file))</a></td>"
            body += "<td>\(distribution.bytes)</td><td><code>\(distribution.sha256)</code></td></tr>\n"
        }
        body += "</tbody>\n</table>\n"
        body += "<h2>Versions</h2>\n<table>\n<thead><tr><th scope=\"col\">Version</th><th scope=\"col\">Published</th>"
        body += "<th scope=\"col\">Rows</th><th scope=\"col\">Run</th></tr></thead>\n<tbody>\n"
        for version in versions.reversed() {
            if let withdrawn = version.withdrawnAt {
                body += "<tr><td>\(version.number) (withdrawn \(escape(Timestamp.string(withdrawn))): "
                body += "\(escape(version.withdrawnReason ?? ""))</td>"
            } else {
                body += "<tr><td><a href=\"\(version.number)/datapackage.json\">\(version.number)</a></td>"
            }
            body += "<td>\(escape(Timestamp.string(version.createdAt)))</td><td>\(version.rowCount)</td>"
            body += "<td><code>\(escape(version.runId))</code></td></tr>\n"
        }
        body += "</tbody>\n</table>\n</main>\n"
        return page(title: "\(latest.title) — \(config.title)", language: config.language ?? "en", body: body)
    }
}
