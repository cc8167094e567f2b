/// A streaming JSON reader: finds the records under a path in one JSON document (or reads JSON Lines) without holding
/// more than one record in memory.
///
/// The record path is a list of object keys (`result.results`). What it points to decides the records: an array gives
/// one record per element; a single object gives one record (the data.go.kr single-item quirk); `null` or `""` gives
/// none (the empty-items quirk). Values off the path are parsed and discarded.
public final class JSONStreamReader {
    private let reader: ByteReader
    private let path: [String]
    private var depth = 0
    /// Objects entered on the way down the record path, closed again by `finishDocument`.
    private var openObjects = 0
    private var line = 1
    private enum State { case start, inArray, single(JSONValue?), done }
    private var state = State.start
    private let maxDepth = 512

    public init(path: String, recordPath: [String]) throws(SourceError) {
        reader = try ByteReader(path: path)
        try reader.skipBOM()
        self.path = recordPath
    }

    /// A reader over one in-memory document (an HTTP body, a JSON Lines line); errors name `label` and `line`.
    public init(bytes: [UInt8], label: String, line: Int = 1, recordPath: [String] = []) {
        reader = ByteReader(bytes: bytes, label: label)
        self.line = line
        self.path = recordPath
    }

    /// The whole document as one value (an API page whose envelope matters); fails on trailing text.
    public func readDocument() throws(SourceError) -> JSONValue {
        try reader.skipBOM()
        try skipSpace()
        guard try reader.peek() != nil else { throw error("the document is empty; expected JSON") }
        let value = try parseValue()
        try expectEnd()
        return value
    }

    /// Fails unless only white space is left.
    func expectEnd() throws(SourceError) {
        try skipSpace()
        if try reader.peek() != nil { throw error("unexpected text after the JSON value") }
    }

    /// The next record value, or `nil` when there are no more.
    public func next() throws(SourceError) -> JSONValue? {
        switch state {
        case .start:
            try skipSpace()
            guard try reader.peek() != nil else { throw error("the file is empty; expected a JSON document") }
            if try !descend(into: path[...]) {
                state = .done
                return nil
            }
            return try next()
        case .inArray:
            try skipSpace()
            if try reader.peek() == UInt8(ascii: "]") {
                _ = try reader.next()
                state = .done
                try finishDocument()
                return nil
            }
            let value = try parseValue()
            try skipSpace()
            switch try reader.next() {
            case UInt8(ascii: ","): break
            case UInt8(ascii: "]"):
                state = .done
                try finishDocument()
            case nil: throw error("the file ends inside the record array (truncated?)")
            default: throw error("expected ',' or ']' after a record")
            }
            return value
        case .single(let value):
            state = .done
            try finishDocument()
            return value
        case .done:
            return nil
        }
    }

    /// Walks keys of `remaining` down from the current value; positions the reader at the records.
    private func descend(into remaining: ArraySlice<String>) throws(SourceError) -> Bool {
        try skipSpace()
        guard let key = remaining.first else {
            switch try reader.peek() {
            case UInt8(ascii: "["):
                _ = try reader.next()
                state = .inArray
            case UInt8(ascii: "{"):
                state = .single(try parseValue())
            default:
                let value = try parseValue()
                guard value == .null || value == .string("") else {
                    throw error("the record path points to \(value.kind), not an array or object")
                }
                state = .single(nil)
            }
            return true
        }
        if try reader.peek() != UInt8(ascii: "{") {
            // data.go.kr sends `"items": ""` (or null) instead of an empty object when there are no records.
            let value = try parseValue()
            guard value == .null || value == .string("") else {
                throw error("expected an object holding '\(key)' on the record path, found \(value.kind)")
            }
            state = .single(nil)
            return true
        }
        _ = try reader.next()
        openObjects += 1
        try skipSpace()
        if try reader.peek() == UInt8(ascii: "}") { throw error("key '\(key)' of the record path is missing") }
        while true {
            try skipSpace()
            guard case .string(let name) = try parseString() else { throw error("expected an object key") }
            try skipSpace()
            guard try reader.next() == UInt8(ascii: ":") else { throw error("expected ':' after key") }
            if name == key { return try descend(into: remaining.dropFirst()) }
            _ = try parseValue()
            try skipSpace()
            switch try reader.next() {
            case UInt8(ascii: ","): continue
            case UInt8(ascii: "}"): throw error("key '\(key)' of the record path is missing")
            default: throw error("expected ',' or '}' in an object")
            }
        }
    }

    /// After the records, the rest of the document must still be well-formed: a truncated file is an error.
    private func finishDocument() throws(SourceError) {
        var open = openObjects
        while open > 0 {
            try skipSpace()
            switch try reader.next() {
            case UInt8(ascii: "}"): open -= 1
            case UInt8(ascii: ","):
                try skipSpace()
                _ = try parseString()
                try skipSpace()
                guard try reader.next() == UInt8(ascii: ":") else { throw error("expected ':' after key") }
                _ = try parseValue()
            case nil: throw error("the file ends before the document is closed (truncated?)")
            default: throw error("unexpected character after the records")
            }
        }
        try skipSpace()
        if try reader.peek() != nil { throw error("unexpected text after the end of the JSON document") }
    }

    // MARK: - Values

    func parseValue() throws(SourceError) -> JSONValue {
        depth += 1
        defer { depth -= 1 }
        if depth > maxDepth { throw error("JSON nested deeper than \(maxDepth) levels") }
        try skipSpace()
        guard let byte = try reader.peek() else { throw error("the file ends where a value was expected (truncated?)") }
        switch byte {
        case UInt8(ascii: "{"):
            _ = try reader.next()
            var members: [(String, JSONValue)] = []
            try skipSpace()
            if try reader.peek() == UInt8(ascii: "}") { _ = try reader.next(); return .object(members) }
            while true {
                try skipSpace()
                guard case .string(let key) = try parseString() else { throw error("expected an object key") }
                try skipSpace()
                guard try reader.next() == UInt8(ascii: ":") else { throw error("expected ':' after an object key") }
                members.append((key, try parseValue()))
                try skipSpace()
                switch try reader.next() {
                case UInt8(ascii: ","): continue
                case UInt8(ascii: "}"): return .object(members)
                case nil: throw error("the file ends inside an object (truncated?)")
                default: throw error("expected ',' or '}' in an object")
                }
            }
        case UInt8(ascii: "["):
            _ = try reader.next()
            var items: [JSONValue] = []
            try skipSpace()
            if try reader.peek() == UInt8(ascii: "]") { _ = try reader.next(); return .array(items) }
            while true {
                items.append(try parseValue())
                try skipSpace()
                switch try reader.next() {
                case UInt8(ascii: ","): continue
                case UInt8(ascii: "]"): return .array(items)
                case nil: throw error("the file ends inside an array (truncated?)")
                default: throw error("expected ',' or ']' in an array")
                }
            }
        case UInt8(ascii: "\""):
            return try parseString()
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try parseNumber()
        default:
            throw error("unexpected character where a JSON value was expected")
        }
    }

    private func literal(_ word: String) throws(SourceError) {
        for expected in word.utf8 {
            guard try reader.next() == expected else { throw error("invalid literal; expected '\(word)'") }
        }
    }

    private func parseNumber() throws(SourceError) -> JSONValue {
        var bytes: [UInt8] = []
        while let byte = try reader.peek(),
              byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".")
                || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") || (48...57).contains(byte) {
            bytes.append(byte)
            _ = try reader.next()
        }
        let text = String(decoding: bytes, as: UTF8.self)
        guard Double(text) != nil else { throw error("malformed number") }
        return .number(text)
    }

    private func parseString() throws(SourceError) -> JSONValue {
        guard try reader.next() == UInt8(ascii: "\"") else { throw error("expected a string") }
        var bytes: [UInt8] = []
        while true {
            guard let byte = try reader.next() else { throw error("the file ends inside a string (truncated?)") }
            switch byte {
            case UInt8(ascii: "\""):
                return .string(String(decoding: bytes, as: UTF8.self))
            case UInt8(ascii: "\\"):
                guard let escaped = try reader.next() else { throw error("the file ends inside a string (truncated?)") }
                switch escaped {
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "r"): bytes.append(0x0D)
                case UInt8(ascii: "b"): bytes.append(0x08)
                case UInt8(ascii: "f"): bytes.append(0x0C)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard try reader.next() == UInt8(ascii: "\\"), try reader.next() == UInt8(ascii: "u") else {
                            throw error("unpaired surrogate in a string escape")
                        }
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate in a string escape") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
                    bytes += Array(String(Character(unicode)).utf8)
                default: bytes.append(escaped)
                }
            case 0x0A:
                throw error("unescaped line break inside a string")
            default:
                bytes.append(byte)
            }
        }
    }

    private func hex4() throws(SourceError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = try reader.next(), let digit = hexDigit(byte) else { throw error("invalid \\u escape") }
            value = value << 4 | digit
        }
        return value
    }

    private func hexDigit(_ byte: UInt8) -> UInt32? {
        switch byte {
        case 48...57: UInt32(byte - 48)
        case 65...70: UInt32(byte - 55)
        case 97...102: UInt32(byte - 87)
        default: nil
        }
    }

    private func skipSpace() throws(SourceError) {
        while let byte = try reader.peek(), byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
            if byte == 0x0A { line += 1 }
            _ = try reader.next()
        }
    }

    private func error(_ message: String) -> SourceError {
        SourceError("\(reader.path):\(line): \(message)")
    }
}

extension JSONValue {
    var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// Reads JSON Lines: one JSON value per line; blank lines are skipped.
public final class JSONLinesReader {
    private let reader: ByteReader
    public private(set) var line = 0

    public init(path: String) throws(SourceError) {
        reader = try ByteReader(path: path)
        try reader.skipBOM()
    }

    /// Lines from an open descriptor (a child process's output), which the reader then owns.
    public init(descriptor: Int32, label: String) {
        reader = ByteReader(descriptor: descriptor, label: label)
    }

    public func next() throws(SourceError) -> JSONValue? {
        while true {
            var bytes: [UInt8] = []
            var sawEnd = false
            while let byte = try reader.next() {
                if byte == 0x0A { sawEnd = true; break }
                bytes.append(byte)
            }
            if bytes.isEmpty && !sawEnd { return nil }
            line += 1
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            return try JSONLinesReader.parseLine(bytes, path: reader.path, line: line)
        }
    }

    static func parseLine(_ bytes: [UInt8], path: String, line: Int) throws(SourceError) -> JSONValue {
        let parser = JSONStreamReader(bytes: bytes, label: path, line: line)
        let value = try parser.parseValue()
        try parser.expectEnd()
        return value
    }
}
