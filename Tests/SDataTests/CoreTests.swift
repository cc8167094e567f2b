import Testing
import SDataCore

struct CoreTests {
    @Test(arguments: [
        (37.5625, "37.562"), (126.9375, "126.938"), (126.9995, "126.999"), (126.9996, "127.000"),
        (37.4125, "37.413"), (37.5, "37.500"), (-0.0005, "-0.001"), (0, "0.000"),
    ])
    func fixedDecimalsRoundTheExactBinaryValue(value: Double, expected: String) {
        #expect(DecimalFormat.fixed(value, scale: 3) == expected)
        #expect(Value.decimal(value, scale: 3).text == expected)
    }

    @Test func isoDateTimesKeepTheirOffset() throws {
        let value = try #require(DatePattern.parseISODateTime("2020-11-03T14:25:07+09:00"))
        #expect(value.description == "2020-11-03T14:25:07+09:00")
        #expect(TimeUnit.hour.truncate(value).description == "2020-11-03T14:00:00+09:00")
        #expect(TimeUnit.month.truncate(value).description == "2020-11-01T00:00:00+09:00")
        #expect(DatePattern.parseISODateTime("2020-11-03 14:25:07.25Z")?.description == "2020-11-03T14:25:07.25+00:00")
        #expect(DatePattern.parseISODateTime("2020-11-03T14:25")?.description == "2020-11-03T14:25:00")
    }

    @Test(arguments: ["2021-02-29", "2021-13-01", "2021-00-10", "21-01-01", "2021-01-01x", ""])
    func impossibleDatesAreRejected(text: String) {
        #expect(DatePattern.parseISODate(text) == nil)
    }

    @Test func leapDaysExist() {
        #expect(DatePattern.parseISODate("2020-02-29") != nil)
        #expect(DatePattern.parseISODate("2000-02-29") != nil)
        #expect(DatePattern.parseISODate("1900-02-29") == nil)
    }

    @Test func customPatternsParseCityFormats() throws {
        let seoul = try DatePattern("yyyy.MM.dd.HH")
        #expect(seoul.parse("2022.03.02.07")?.description == "2022-03-02T07:00:00")
        #expect(seoul.parse("2022.3.2.07") == nil)
        let taipei = try DatePattern("yyyy/MM/dd")
        #expect(taipei.parse("2022/05/01")?.date.description == "2022-05-01")
        let quoted = try DatePattern("yyyy-MM-dd'T'HH:mm:ssXXX")
        #expect(quoted.parse("2020-11-03T14:25:07+09:00")?.offsetSeconds == 9 * 3600)
        #expect(throws: PatternError.self) { try DatePattern("yyyy-MM-dd hh:mm") }
    }

    @Test func valueParserReadsDeclaredTypes() {
        #expect(ValueParser(type: .integer).parse("156.0") == .integer(156))
        #expect(ValueParser(type: .integer).parse("15.5") == nil)
        #expect(ValueParser(type: .number).parse("1e3") == .number(1000))
        #expect(ValueParser(type: .boolean).parse("yes") == .boolean(true))
        #expect(ValueParser(type: .string).parse("") == .null)
        #expect(ValueParser(type: .date).parse("2021-09-14") == .date(LocalDate(year: 2021, month: 9, day: 14)!))
    }

    @Test func suggestionsFindLikelyTypos() {
        #expect(Suggestion.closest(to: "pseudonymise", in: ["pseudonymize", "generalize"]) == "pseudonymize")
        #expect(Suggestion.closest(to: "titel", in: ["title", "id"]) == "title")
        #expect(Suggestion.closest(to: "xyz", in: ["title", "schedule"]) == nil)
    }

    @Test func redactorScrubsRegisteredSecrets() {
        let redactor = SecretRedactor()
        redactor.register(name: "KEY", value: "s3cr3t-value")
        #expect(redactor.redact("url?key=s3cr3t-value&x=1") == "url?key=«secret:KEY»&x=1")
    }

    @Test func schemaTypesUnify() {
        #expect(FieldType.integer.unified(with: .number) == .number)
        #expect(FieldType.integer.unified(with: .string) == .string)
        #expect(FieldType.date.unified(with: .date) == .date)
    }
}
