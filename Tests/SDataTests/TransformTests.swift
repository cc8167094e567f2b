import Foundation
import Testing
import SDataCore
@testable import SDataGovernance

struct TransformTests {
    static func run(_ rules: [any GovernanceRule], _ schema: Schema, _ rows: [[Value]],
                    context: BindingContext = BindingContext()) throws -> (GovernancePlan, [Record]) {
        let plan = try GovernancePlan(rules: rules, input: schema, context: context)
        let batch = RecordBatch(schema: schema, records: rows)
        for pass in 0..<plan.observationPasses {
            try plan.observe(batch, pass: pass)
            plan.finishPass(pass)
        }
        return (plan, try plan.govern(batch).records)
    }

    static let one = Schema([Field(name: "v", type: .string)])

    @Test func maskKeepsTheLastCharacters() throws {
        let (_, out) = try Self.run([MaskRule(fields: ["v"], keepLast: 4)], Self.one,
                                    [[.string("1234-5678-9012-3456")], [.string("12")], [.null]])
        #expect(out.map(\.[0]) == [.string("***************3456"), .string("12"), .null])
    }

    @Test func topAndBottomCodingCapExtremes() throws {
        let schema = Schema([Field(name: "age", type: .integer)])
        let (plan, out) = try Self.run([TopBottomCodeRule(fields: ["age"], top: 90, bottom: 10)], schema,
                                       [[.integer(95)], [.integer(40)], [.integer(3)]])
        #expect(out.map(\.[0]) == [.integer(90), .integer(40), .integer(10)])
        #expect(plan.report.rules[0].stats.valuesChanged == 2)
    }

    @Test func lookupClimbsTheHierarchyAndNeverLeaksUnmappedValues() throws {
        let table = ["역삼동": "강남구", "잠실동": "송파구"]
        let (_, out) = try Self.run([GeneralizeRule(fields: ["v"], method: .lookup(table, failUnmapped: false))], Self.one,
                                    [[.string("역삼동")], [.string("잠실동")], [.string("미지동")]])
        #expect(out.map(\.[0]) == [.string("강남구"), .string("송파구"), .null])
        #expect(throws: GovernanceError.self) {
            _ = try Self.run([GeneralizeRule(fields: ["v"], method: .lookup(table, failUnmapped: true))], Self.one,
                             [[.string("미지동")]])
        }
    }

    @Test func geoGridSnapsPointsIntoCells() throws {
        let schema = Schema([Field(name: "lat", type: .number), Field(name: "lon", type: .number)])
        let points: [[Value]] = [[.number(37.5012), .number(127.0396)], [.number(37.5014), .number(127.0398)],
                                 [.number(37.5665), .number(126.9780)], [.number(37.5), .null]]
        let (_, out) = try Self.run([GeoGridRule(latitude: "lat", longitude: "lon", cell: 500)], schema, points)
        #expect(out[0] == out[1])
        #expect(out[0] != out[2])
        #expect(out[3] == [.null, .null])
        for row in out.prefix(3) {
            let lat = row[0].doubleValue!, lon = row[1].doubleValue!
            #expect(row[0].text.split(separator: ".")[1].count == 6)
            #expect(abs(lat - 37.5) < 0.1 && abs(lon - 127) < 0.1)
        }
        // A cell is about 500 m across: neighbouring cells' corners are 500 m apart north–south.
        let (a, _) = GeoGridRule.snap(lat: 37.50, lon: 127.0, cell: 500)
        let (b, _) = GeoGridRule.snap(lat: 37.50 + 500 / 111_320, lon: 127.0, cell: 500)
        #expect(abs((b - a) * 111_320 - 500) < 1)
    }

    @Test func rareValuesAreSuppressedNotTheirRecords() throws {
        var rows: [[Value]] = Array(repeating: [.string("한국")], count: 20)
        rows += [[.string("아이슬란드")], [.string("한국")]]
        let (plan, out) = try Self.run([SuppressRule(fields: ["v"], minCount: 3)], Self.one, rows)
        #expect(out.count == 22)
        #expect(out[20] == [.null])
        #expect(out[21] == [.string("한국")])
        #expect(plan.report.rules[0].stats.valuesChanged == 1)
    }

    /// Property: after l-diversity every published class holds at least l distinct sensitive values.
    @Test(arguments: [2, 3])
    func everyPublishedClassIsLDiverse(l: Int) throws {
        var generator = SplitMix(seed: UInt64(l) * 104_729)
        let schema = Schema([Field(name: "district", type: .string), Field(name: "diagnosis", type: .string)])
        var rows: [[Value]] = []
        for _ in 0..<2000 {
            let district = "gu-\(Int(generator.next() % 64).trailingZeroBitCount)"
            let diagnosis = "d-\(generator.next() % (district == "gu-0" ? 1 : 4))"
            rows.append([.string(district), .string(diagnosis)])
        }
        let (plan, out) = try Self.run([LDiversityRule(quasiIdentifiers: ["district"], sensitive: "diagnosis", l: l)],
                                       schema, rows)
        var distinct: [String: Set<String>] = [:]
        for row in out { distinct[row[0].text, default: []].insert(row[1].text) }
        #expect(distinct.values.allSatisfy { $0.count >= l })
        #expect(distinct["gu-0"] == nil, "a class with one diagnosis must be suppressed")
        #expect(plan.report.rules[0].details?["l_achieved"].map { $0 >= l } == true)
        #expect(throws: GovernanceError.self) {
            _ = try Self.run([LDiversityRule(quasiIdentifiers: ["district"], sensitive: "diagnosis", l: l, action: .fail)],
                             schema, rows)
        }
    }

    @Test func expiredRecordsAreWithdrawn() throws {
        let schema = Schema([Field(name: "last_contact", type: .date)])
        let rows: [[Value]] = ["2020-12-01", "2020-12-16", "2020-12-17", "2020-12-31"].map {
            [.date(DatePattern.parseISODate($0)!)]
        }
        // A date counts from its start: 2020-12-16 + 14 days is past by the morning of the 30th.
        let now = DatePattern.parseISODateTime("2020-12-30T12:00:00+09:00")
        let (_, byRun) = try Self.run([ExpireRule(field: "last_contact", seconds: 14 * 86_400)], schema, rows,
                                      context: BindingContext(now: now))
        #expect(byRun.map { $0[0].text } == ["2020-12-17", "2020-12-31"])
        let (plan, byData) = try Self.run([ExpireRule(field: "last_contact", seconds: 14 * 86_400, reference: .data)],
                                          schema, rows)
        #expect(byData.map { $0[0].text } == ["2020-12-17", "2020-12-31"])
        #expect(plan.report.rules[0].stats.rowsDropped == 2)
        #expect(Period.days(LocalDate(year: 1970, month: 1, day: 1)!) == 0)
        #expect(Period.days(LocalDate(year: 2000, month: 3, day: 1)!) == 11_017)
    }

    @Test func kAnonymityCanFailInsteadOfSuppressing() throws {
        let rows: [[Value]] = [[.string("a")], [.string("a")], [.string("b")]]
        #expect(throws: GovernanceError.self) {
            _ = try Self.run([KAnonymityRule(quasiIdentifiers: ["v"], k: 2, action: .fail)], Self.one, rows)
        }
        let (_, out) = try Self.run([KAnonymityRule(quasiIdentifiers: ["v"], k: 2)], Self.one, rows)
        #expect(out.count == 2)
    }

    /// Property: pseudonyms are stable within an epoch and different across epochs and domains.
    @Test func pseudonymEpochsAndDomains() throws {
        let key = Array("a-long-enough-secret".utf8)
        let values: [[Value]] = (0..<200).map { [.string("010-0000-\(1000 + $0)")] }
        func pseudonyms(_ rule: PseudonymizeRule, run: String) throws -> [Value] {
            try Self.run([rule], Self.one, values, context: BindingContext(runId: run)).1.map(\.[0])
        }
        let stable = PseudonymizeRule(fields: ["v"], key: key, domain: "tracing")
        #expect(try pseudonyms(stable, run: "r1") == pseudonyms(stable, run: "r2"))
        let perRelease = PseudonymizeRule(fields: ["v"], key: key, domain: "tracing", epoch: .perRelease)
        let first = try pseudonyms(perRelease, run: "r1"), second = try pseudonyms(perRelease, run: "r2")
        #expect(first == (try pseudonyms(perRelease, run: "r1")))
        #expect(Set(first).isDisjoint(with: Set(second)))
        let otherDomain = try pseudonyms(PseudonymizeRule(fields: ["v"], key: key, domain: "cards"), run: "r1")
        #expect(Set(otherDomain).isDisjoint(with: Set(try pseudonyms(stable, run: "r1"))))
        #expect(Set(first).count == values.count)
        let raw = try pseudonyms(PseudonymizeRule(fields: ["v"], key: Array("bench-key".utf8), rawKey: true), run: "x")
        #expect(raw.count == 200)
        #expect(Pseudonymizer(key: Array("bench-key".utf8), length: 16).pseudonym(for: "010-0000-1000") == raw[0].text)
    }
}
