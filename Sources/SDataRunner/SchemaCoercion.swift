import SDataCore
import SDataSpec
import SDataPluginAPI

/// Applies a spec's declared schema to the source's batches before staging: parses text into the declared types,
/// checks bounds and required fields, and refuses fields the spec does not allow. Errors name the field and record
/// number, never the value.
struct SchemaCoercion {
    private let declared: SchemaSpec?
    private let parsers: [String: (ValueParser, SchemaSpec.FieldSpec)]
    private(set) var recordNumber = 0

    init(_ declared: SchemaSpec?) {
        self.declared = declared
        var parsers: [String: (ValueParser, SchemaSpec.FieldSpec)] = [:]
        for field in declared?.fields ?? [] {
            parsers[field.name] = (ValueParser(type: field.type, pattern: field.format), field)
        }
        self.parsers = parsers
    }

    mutating func apply(_ batch: RecordBatch) throws -> RecordBatch {
        guard let declared else {
            recordNumber += batch.count
            return batch
        }
        var schema = batch.schema
        var plan: [(Int, ValueParser, SchemaSpec.FieldSpec)] = []
        for (index, field) in batch.schema.fields.enumerated() {
            if let (parser, spec) = parsers[field.name] {
                plan.append((index, parser, spec))
                schema.append(Field(name: field.name, type: spec.type, description: spec.description))
            } else if !declared.allowsAdditional {
                throw SourceError("the source has a field '\(field.name)' that the spec's schema does not declare "
                                  + "(schema.additional_fields is 'error')")
            }
        }
        let present = Set(batch.schema.names)
        if let missing = declared.fields.first(where: { $0.required && !present.contains($0.name) }) {
            throw SourceError("required field '\(missing.name)' is missing from the source")
        }
        var records = batch.records
        for row in records.indices {
            recordNumber += 1
            for (index, parser, spec) in plan {
                let value = records[row][index]
                guard let parsed = parser.parse(value) else {
                    let layout = spec.format.map { " in the format '\($0.description)'" } ?? ""
                    throw SourceError("field '\(spec.name)' of record \(recordNumber) is not a valid \(spec.type.rawValue)\(layout)")
                }
                if parsed.isNull, spec.required {
                    throw SourceError("field '\(spec.name)' of record \(recordNumber) is empty but required")
                }
                if let number = parsed.doubleValue {
                    if let minimum = spec.minimum, number < minimum {
                        throw SourceError("field '\(spec.name)' of record \(recordNumber) is below its minimum \(minimum)")
                    }
                    if let maximum = spec.maximum, number > maximum {
                        throw SourceError("field '\(spec.name)' of record \(recordNumber) is above its maximum \(maximum)")
                    }
                }
                records[row][index] = parsed
            }
        }
        return RecordBatch(schema: schema, records: records)
    }
}
