public import Foundation
public import SDataCore
public import SDataPluginAPI
import SDataHTTP

/// `feed`: RSS 2.0 (and 1.0) and Atom feeds into one documented record shape.
public struct FeedSource: SourcePlugin {
    public static let descriptor = PluginDescriptor(
        id: "feed",
        summary: "Reads an RSS or Atom feed into a fixed record shape, tolerant of non-standard dates.",
        details: """
            Each RSS `item` or Atom `entry` becomes one record with these fields: `feed_title`, `id` (RSS `guid`, \
            else `link`; Atom `id`), `title`, `link` (Atom: the `alternate` link), `summary` (RSS `description`, \
            Atom `summary`), `content` (`content:encoded` or Atom `content`), `author` (`author`, `dc:creator`, \
            Atom `author/name`), `categories` (joined with `; `), `published` and `updated` (datetimes), \
            `enclosure_url`, `enclosure_type` and `enclosure_length`. HTML in text fields is kept as text: publish \
            it through `redact` rules when it may carry personal data. Dates are read in RFC 822 (`Wed, 02 Mar \
            2022 09:00:00 +0900`, also without weekday or seconds, with GMT/UTC/KST and US zone names), RFC 3339, \
            and the forms Korean feeds use (`2022-03-02 09:00:00`, `2022.03.01 17:45`, `2022/03/01`); a date \
            without an offset is taken in `timezone`. An unreadable date fails the run naming the item, unless \
            `bad_dates: null`. The encoding comes from the XML prolog (EUC-KR), a BOM is skipped. A URL is \
            fetched with a conditional GET: an unchanged feed ends the run as `unchanged`.
            """,
        options: DocumentLocation.options + [
            OptionSpec("timezone", .string, default: "Asia/Seoul", "The time zone of dates written without an offset."),
            OptionSpec("bad_dates", .choice(["fail", "null"]), default: "fail",
                       "What an unreadable date does: fail the run, or become null."),
        ],
        example: """
            source:
              plugin: feed
              with:
                url: https://www.mois.go.kr/gpms/view/jsp/rss/rss.jsp?ctxCd=1012
            """
    )

    /// A feed date in any of the forms this plugin reads; `nil` when it is none of them.
    public static func parseDate(_ text: String, timeZone: TimeZone) -> DateTime? {
        FeedDate.parse(text, timeZone: timeZone)
    }

    public static let fieldNames = ["feed_title", "id", "title", "link", "summary", "content", "author", "categories",
                                    "published", "updated", "enclosure_url", "enclosure_type", "enclosure_length"]

    let location: DocumentLocation
    let timeZone: TimeZone
    let failOnBadDates: Bool

    public init(options: PluginOptions) throws {
        location = try DocumentLocation(options: options)
        let zone = options.string("timezone") ?? "Asia/Seoul"
        guard let timeZone = TimeZone(identifier: zone) else {
            throw OptionError(option: "timezone", "'\(zone)' is not a time zone name like Asia/Seoul")
        }
        self.timeZone = timeZone
        failOnBadDates = options.string("bad_dates") != "null"
    }

    public func run(into writer: RecordWriter, context: SourceContext) async throws {
        try await location.withFile(context) { file in
            let document = try XMLRecordReader(path: file, recordPath: "").readDocument()
            let entries: [JSONValue]
            let feedTitle: String?
            let atom: Bool
            if let feed = document["feed"] {
                atom = true
                feedTitle = FeedSource.text(feed["title"])
                entries = feed["entry"]?.records ?? []
            } else if let channel = document["rss"]?["channel"] {
                atom = false
                feedTitle = FeedSource.text(channel["title"])
                entries = channel["item"]?.records ?? []
            } else if let rdf = document["RDF"] {
                atom = false
                feedTitle = FeedSource.text(rdf["channel"]?["title"])
                entries = rdf["item"]?.records ?? []
            } else {
                throw SourceError("\(location.url ?? location.path ?? "feed"): neither an RSS nor an Atom feed "
                                  + "(root element \(document.rootName ?? "?"))")
            }
            var output = BatchingWriter(writer, batchSize: context.batchSize, emptyAsNull: false)
            for (index, entry) in entries.enumerated() {
                var record = atom ? try atomRecord(entry, index: index) : try rssRecord(entry, index: index)
                record[0] = ("feed_title", feedTitle.map(Value.string) ?? .null)
                try await output.append(record)
            }
            try await output.finish()
            context.logger.info("feed: \(output.count) \(atom ? "entries" : "items")")
        }
    }

    private func rssRecord(_ item: JSONValue, index: Int) throws -> [(String, Value)] {
        let enclosure = item["enclosure"]?.records.first
        let link = FeedSource.text(item["link"])
        return FeedSource.shape([
            "id": FeedSource.text(item["guid"]) ?? link,
            "title": FeedSource.text(item["title"]),
            "link": link,
            "summary": FeedSource.text(item["description"]),
            "content": FeedSource.text(item["encoded"]),
            "author": FeedSource.text(item["author"]) ?? FeedSource.text(item["creator"]),
            "categories": FeedSource.joined(item["category"]?.records.compactMap { FeedSource.text($0) }),
        ], dates: [
            "published": try date(item["pubDate"] ?? item["date"], field: "pubDate", index: index),
            "updated": nil,
        ], enclosure: enclosure.map { ($0["@url"]?.text, $0["@type"]?.text, $0["@length"]?.integer) })
    }

    private func atomRecord(_ entry: JSONValue, index: Int) throws -> [(String, Value)] {
        let links = entry["link"]?.records ?? []
        let alternate = links.first { ($0["@rel"]?.text ?? "alternate") == "alternate" }
        let enclosure = links.first { $0["@rel"]?.text == "enclosure" }
        return FeedSource.shape([
            "id": FeedSource.text(entry["id"]),
            "title": FeedSource.text(entry["title"]),
            "link": alternate?["@href"]?.text,
            "summary": FeedSource.text(entry["summary"]),
            "content": FeedSource.text(entry["content"]),
            "author": entry["author"]?.records.compactMap { FeedSource.text($0["name"]) }.joined(separator: ", "),
            "categories": FeedSource.joined(entry["category"]?.records.compactMap { $0["@term"]?.text ?? FeedSource.text($0) }),
        ], dates: [
            "published": try date(entry["published"], field: "published", index: index),
            "updated": try date(entry["updated"], field: "updated", index: index),
        ], enclosure: enclosure.map { ($0["@href"]?.text, $0["@type"]?.text, $0["@length"]?.integer) })
    }

    private static func shape(_ texts: [String: String?], dates: [String: DateTime?],
                              enclosure: (String?, String?, Int?)?) -> [(String, Value)] {
        fieldNames.map { name in
            switch name {
            case "published", "updated": (name, (dates[name] ?? nil).map(Value.datetime) ?? .null)
            case "enclosure_url": (name, enclosure?.0.map(Value.string) ?? .null)
            case "enclosure_type": (name, enclosure?.1.map(Value.string) ?? .null)
            case "enclosure_length": (name, enclosure?.2.map { Value.integer(Int64($0)) } ?? .null)
            default: (name, (texts[name] ?? nil).flatMap { $0.isEmpty ? nil : Value.string($0) } ?? .null)
            }
        }
    }

    /// An element's text: a plain leaf, or the text of one with attributes (`<title type="html">`).
    static func text(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let text)?: text.trimmingWhitespace()
        case .object?: value?["value"]?.text?.trimmingWhitespace()
        case .array(let items)?: text(items.first)
        default: nil
        }
    }

    static func joined(_ parts: [String]?) -> String? {
        guard let parts, !parts.isEmpty else { return nil }
        return parts.joined(separator: "; ")
    }

    private func date(_ value: JSONValue?, field: String, index: Int) throws -> DateTime? {
        guard let text = FeedSource.text(value), !text.isEmpty else { return nil }
        if let parsed = FeedDate.parse(text, timeZone: timeZone) { return parsed }
        guard failOnBadDates else { return nil }
        throw SourceError("entry \(index + 1): \(field) '\(text)' is not a date this plugin can read; set "
                          + "bad_dates: null to publish such dates as null")
    }
}

extension JSONValue {
    /// The name of the root element of a document read by `readDocument()`.
    var rootName: String? {
        if case .object(let members) = self { return members.first?.0 }
        return nil
    }
}

/// The date forms feeds use, standard and not.
enum FeedDate {
    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    private static let zones: [String: Int] = [
        "gmt": 0, "ut": 0, "utc": 0, "z": 0, "kst": 9, "jst": 9, "est": -5, "edt": -4, "cst": -6, "cdt": -5,
        "mst": -7, "mdt": -6, "pst": -8, "pdt": -7,
    ]
    nonisolated(unsafe) private static let rfc822 = try! Regex(
        #"^(?:[A-Za-z]{3},?\s+)?(\d{1,2})\s+([A-Za-z]{3})[a-z]*\s+(\d{2,4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([+-]\d{4}|[A-Za-z]{1,4})?$"#)
    nonisolated(unsafe) private static let numeric = try! Regex(
        #"^(\d{4})[-./](\d{1,2})[-./](\d{1,2})\.?(?:[T\s]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$"#)

    static func parse(_ text: String, timeZone: TimeZone) -> DateTime? {
        if let match = try? rfc822.wholeMatch(in: text) {
            let parts = (1..<match.output.count).map { match.output[$0].substring.map(String.init) }
            guard let day = parts[0].flatMap({ Int($0) }), let monthIndex = months.firstIndex(of: parts[1]!.lowercased()),
                  var year = parts[2].flatMap({ Int($0) }) else { return nil }
            if year < 100 { year += year < 50 ? 2000 : 1900 }
            let offset = parts[6].flatMap(zoneOffset)
            if parts[6] != nil, offset == nil { return nil }
            return make(year: year, month: monthIndex + 1, day: day, hour: Int(parts[3]!)!, minute: Int(parts[4]!)!,
                        second: parts[5].flatMap { Int($0) } ?? 0, offset: offset, timeZone: timeZone)
        }
        if let match = try? numeric.wholeMatch(in: text) {
            let parts = (1..<match.output.count).map { match.output[$0].substring.map(String.init) }
            return make(year: Int(parts[0]!)!, month: Int(parts[1]!)!, day: Int(parts[2]!)!,
                        hour: parts[3].flatMap { Int($0) } ?? 0, minute: parts[4].flatMap { Int($0) } ?? 0,
                        second: parts[5].flatMap { Int($0) } ?? 0, offset: parts[6].flatMap(zoneOffset),
                        timeZone: timeZone)
        }
        return nil
    }

    /// `+0900`, `+09:00`, `Z`, `GMT`, `KST` in seconds east of UTC.
    static func zoneOffset(_ text: String) -> Int? {
        if let known = zones[text.lowercased()] { return known * 3600 }
        let digits = text.filter(\.isNumber)
        guard let sign = text.first, sign == "+" || sign == "-", digits.count == 4,
              let hours = Int(digits.prefix(2)), let minutes = Int(digits.suffix(2)) else { return nil }
        return (sign == "-" ? -1 : 1) * (hours * 3600 + minutes * 60)
    }

    private static func make(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, offset: Int?,
                             timeZone: TimeZone) -> DateTime? {
        guard let date = LocalDate(year: year, month: month, day: day) else { return nil }
        var resolved = offset
        if resolved == nil {
            // The zone's offset at that local time (close enough at DST edges: feeds rarely publish at 2 a.m.).
            let utcGuess = Double(date.daysSinceEpoch * 86_400 + hour * 3600 + minute * 60 + second)
            resolved = timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: utcGuess))
        }
        return DateTime(date: date, hour: hour, minute: minute, second: second, offsetSeconds: resolved)
    }
}
