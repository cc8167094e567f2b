import Foundation
public import SDataCore

/// `geo_grid: { lat: lat, lon: lon, cell: 500 }` snaps each point to the south-west corner of a grid cell about
/// `cell` metres wide, so that published positions say "somewhere in this 500 m square" rather than "this door".
/// Latitude cells are `cell / 111 320` degrees; longitude cells are widened by `1 / cos(latitude)` of the cell's row,
/// so cells stay roughly square. Coordinates are written with 6 decimals.
public struct GeoGridRule: GovernanceRule {
    public static let name = "geo_grid"
    public static let summary = "Snaps latitude/longitude points to the corner of a grid cell of the given size in metres."
    public let latitude: String
    public let longitude: String
    public let cell: Double

    public init(latitude: String, longitude: String, cell: Double) {
        self.latitude = latitude
        self.longitude = longitude
        self.cell = cell
    }

    public static func decode(_ node: ConfigNode, diagnostics: inout Diagnostics) -> GeoGridRule? {
        guard let options = RuleOptions(rule: name, node: node, allowed: ["lat", "lon", "cell"],
                                        diagnostics: &diagnostics) else { return nil }
        let latitude = options.require("lat", diagnostics: &diagnostics)?.scalar
        let longitude = options.require("lon", diagnostics: &diagnostics)?.scalar
        guard let cellNode = options.require("cell", diagnostics: &diagnostics) else { return nil }
        guard let cell = cellNode.double, (1...1_000_000).contains(cell) else {
            diagnostics.error("'cell' of rule 'geo_grid' must be a size in metres between 1 and 1000000", at: cellNode.location)
            return nil
        }
        guard let latitude, let longitude else { return nil }
        return GeoGridRule(latitude: latitude, longitude: longitude, cell: cell)
    }

    public var referencedFields: [String] { [latitude, longitude] }

    public func bind(to input: Schema) throws(GovernanceError) -> RuleStep {
        let lat = try input.require(latitude, for: Self.name)
        let lon = try input.require(longitude, for: Self.name)
        return .record(GeoGridStep(input: input, lat: lat, lon: lon, cell: cell))
    }

    /// The south-west corner of the cell holding (`lat`, `lon`).
    public static func snap(lat: Double, lon: Double, cell: Double) -> (Double, Double) {
        let latStep = cell / 111_320
        let snappedLat = (lat / latStep).rounded(.down) * latStep
        let lonStep = cell / (111_320 * max(0.01, cos((snappedLat + latStep / 2) * .pi / 180)))
        let snappedLon = (lon / lonStep).rounded(.down) * lonStep
        return (snappedLat, snappedLon)
    }
}

final class GeoGridStep: RecordStep {
    var rewrittenPositions: Set<Int>? { [lat, lon] }

    let outputSchema: Schema
    var stats = RuleStats()
    private let lat: Int
    private let lon: Int
    private let cell: Double
    private var row = 0

    init(input: Schema, lat: Int, lon: Int, cell: Double) {
        var schema = input
        schema.setType(.number, at: lat)
        schema.setType(.number, at: lon)
        outputSchema = schema
        self.lat = lat
        self.lon = lon
        self.cell = cell
    }

    func apply(_ record: inout Record) throws(GovernanceError) -> Bool {
        row += 1
        if record[lat].isNull || record[lon].isNull {
            // Half a position still locates someone: publish neither.
            record[lat] = .null
            record[lon] = .null
            return true
        }
        guard let latitude = Self.number(record[lat]), let longitude = Self.number(record[lon]),
              (-90...90).contains(latitude), (-180...180).contains(longitude) else {
            throw GovernanceError("rule 'geo_grid' cannot read the position of record \(row) as latitude/longitude")
        }
        let (snappedLat, snappedLon) = GeoGridRule.snap(lat: latitude, lon: longitude, cell: cell)
        record[lat] = .decimal(snappedLat, scale: 6)
        record[lon] = .decimal(snappedLon, scale: 6)
        stats.valuesChanged += 2
        return true
    }

    static func number(_ value: Value) -> Double? {
        if case .string(let text) = value { return Double(text) }
        return value.doubleValue
    }
}
