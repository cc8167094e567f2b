public import SDataCore
import Crypto
import Foundation

/// One worker's share of a columnar run: it governs the chunks handed to it, in order, with state of its own
/// (pseudonym memos, class counts, statistics, the PII scanner), so that lanes never share a mutable structure; the
/// runner merges their counts at the end (``ColumnarPlan/report(lanes:rowsIn:classes:)``).
///
/// The state is a value (``LaneState``) taken out of the lane for the length of a chunk, so that the per-field loops
/// run on local memory, without the exclusivity checks and reference counting of class properties.
public final class ColumnarLane: @unchecked Sendable {
    private var state: LaneState
    let scanner = PIIScanner()

    public init(plan: ColumnarPlan) {
        state = LaneState(plan: plan)
    }

    var stats: [RuleStats] { state.stats }
    public var rowsOut: Int { state.rowsOut }
    var gateSuppressed: Int { state.gateSuppressed }
    var smallestKept: Int { state.smallestKept }
    var classCount: Int { state.classes.count }
    var classSizes: [Int32] { state.classSizes }
    func classKey(_ id: Int, into key: inout [UInt8]) { state.classKey(id, into: &key) }

    /// Frees the class table once the run's class sizes are merged (the final pass needs only the sizes).
    func releaseClasses() { state.releaseClasses() }

    /// Counts the k-anonymity class of every row of `chunk`; returns each row's class id within this lane.
    /// Errors number records from the chunk's first (``RecordError``).
    public func observe(_ chunk: DelimitedChunk) throws -> [UInt32] {
        var work = LaneState.empty
        swap(&work, &state)
        defer { swap(&work, &state) }
        return try work.observe(chunk)
    }

    /// Governs `chunk` and appends its published rows to `outputs` (one buffer per dialect). `classIds` are this
    /// lane's ids from ``observe(_:)`` and `sizes` the whole run's class sizes by those ids.
    public func govern(_ chunk: DelimitedChunk, classIds: [UInt32], sizes: [Int32], dialects: [Dialect],
                       into outputs: inout [[UInt8]]) throws {
        var work = LaneState.empty
        swap(&work, &state)
        defer { swap(&work, &state) }
        try work.govern(chunk, classIds: classIds, sizes: sizes, dialects: dialects, scanner: scanner, into: &outputs)
    }

    /// One delimited output: the dialect's delimiter and line terminator.
    public struct Dialect: Sendable {
        public let delimiter: UInt8
        public let lineTerminator: [UInt8]
        public init(delimiter: UInt8, lineTerminator: String) {
            self.delimiter = delimiter
            self.lineTerminator = Array(lineTerminator.utf8)
        }
    }

    /// A value a rule cannot read, in record `record` counted from the chunk's first (the caller adds the rows before
    /// it).
    public struct RecordError: Error {
        let field: String
        public let record: Int
        let expected: String

        public func governanceError(rowsBefore: Int) -> GovernanceError {
            GovernanceError("rule 'generalize' cannot read field '\(field)' of record \(rowsBefore + record) as \(expected)")
        }
    }
}

/// A pseudonymize step's memo: digests by input bytes (`length` hex bytes each) and the keyed HMAC state, whose inner
/// and outer SHA-256 blocks are computed once and copied per digest.
struct PseudonymMemo {
    var table = ByteTable(capacity: 1 << 12)
    var digests: [UInt8] = []
    let mac: HMAC<SHA256>
    let length: Int
    static let limit = 1 << 20
}

struct LaneState {
    /// How a chain is computed: copied from the field, one step with a byte kernel (its parameter in `parameters`),
    /// one other step, or several steps.
    enum Kind: UInt8 {
        case verbatim, pseudonymize, band, decimals, truncate, single, several
    }

    // The plan, flattened into arrays of plain values.
    private let sources: [Int]
    private let kinds: [Kind]
    /// Per chain: the memo index, band width, scale or time unit of its single step.
    private let parameters: [Int]
    /// Per chain: the rule its single step belongs to (statistics).
    private let ruleOf: [Int]
    private let steps: [[ColumnarPlan.Step]]
    /// Chains with steps that run in the final pass, and the k-anonymity chains.
    private let stepChains: [Int]
    private let classChains: [Int]
    private let output: [Int]
    private let scanned: [Bool]
    private let names: [String]
    private let kAnonymity: (rule: Int, k: Int, fail: Bool)?
    private let gateMode: PIIGateMode

    private(set) var stats: [RuleStats]
    private(set) var rowsOut = 0
    private(set) var gateSuppressed = 0
    private(set) var smallestKept = Int.max
    private(set) var classes = ByteTable(capacity: 4096)
    private(set) var classSizes: [Int32] = []

    /// Per output column the PII gate scans: what the detectors found in each value seen (bounded), by bytes.
    private var gateMemo: [ByteTable]
    private var gateFound: [[[String]]]
    private static let gateMemoLimit = 1 << 12

    private var memos: [PseudonymMemo]
    private var redactors: [RedactStep?]
    /// Per quasi-identifier: its values as read (→ raw ids), the id of each one's NFC form, and the NFC forms
    /// (→ canonical ids). Classes compare by canonical equivalence, as Swift strings do; the class table is keyed by
    /// the canonical ids, four bytes each, so that a class lookup compares one short key.
    private var columnRaw: [ByteTable] = []
    private var columnMap: [[UInt32]] = []
    private var columnCanonical: [ByteTable] = []

    /// The current row's values of chains with steps: `arena[valueStart[c] ..< valueEnd[c]]`, end < start for null.
    private var arena: [UInt8] = []
    private var valueStart: [Int]
    private var valueEnd: [Int]
    private var key: [UInt8] = []

    static var empty: LaneState { LaneState() }

    private init() {
        sources = []; kinds = []; parameters = []; ruleOf = []; steps = []; stepChains = []; classChains = []
        columnRaw = []; columnMap = []; columnCanonical = []
        output = []; scanned = []; names = []
        kAnonymity = nil; gateMode = .off; stats = []; memos = []; redactors = []; valueStart = []; valueEnd = []
        gateMemo = []; gateFound = []
    }

    init(plan: ColumnarPlan) {
        sources = plan.chains.map(\.source)
        steps = plan.chains.map(\.steps)
        stepChains = plan.evaluated.filter { !plan.chains[$0].steps.isEmpty }
        classChains = plan.kAnonymity?.chains ?? []
        columnRaw = classChains.map { _ in ByteTable(capacity: 64) }
        columnMap = classChains.map { _ in [] }
        columnCanonical = classChains.map { _ in ByteTable(capacity: 64) }
        output = plan.output
        scanned = plan.scanned
        gateMemo = plan.scanned.map { _ in ByteTable(capacity: 1024) }
        gateFound = plan.scanned.map { _ in [] }
        names = plan.outputSchema.fields.map(\.name)
        kAnonymity = plan.kAnonymity.map { ($0.rule, $0.k, $0.fail) }
        gateMode = plan.gateMode
        stats = Array(repeating: RuleStats(), count: plan.rules.count)
        let unused = PseudonymMemo(mac: HMAC<SHA256>(key: SymmetricKey(data: [0])), length: 0)
        var memos = Array(repeating: unused, count: plan.steps)
        var redactors = [RedactStep?](repeating: nil, count: plan.steps)
        var kinds: [Kind] = [], parameters: [Int] = [], ruleOf: [Int] = []
        for chain in plan.chains {
            for step in chain.steps {
                switch step.operation {
                case .pseudonymize(let key, let length):
                    memos[step.id] = PseudonymMemo(mac: HMAC<SHA256>(key: SymmetricKey(data: key)), length: length)
                case .redact(let rule, _):
                    let single = RedactRule(fields: [step.field], detectors: rule.detectors, patterns: rule.patterns,
                                            action: .redact, normalize: rule.normalize)
                    if case .record(let bound)? = try? single.bind(to: Schema([Field(name: step.field, type: .string)])) {
                        redactors[step.id] = bound as? RedactStep
                    }
                case .generalize:
                    break
                }
            }
            var kind = Kind.several, parameter = 0
            if chain.steps.isEmpty {
                kind = .verbatim
            } else if chain.steps.count == 1 {
                kind = .single
                switch chain.steps[0].operation {
                case .pseudonymize: kind = .pseudonymize; parameter = chain.steps[0].id
                case .generalize(.band(let width)): kind = .band; parameter = width
                case .generalize(.decimals(let scale)): kind = .decimals; parameter = scale
                case .generalize(.truncate(let unit)): kind = .truncate; parameter = TimeUnit.allCases.firstIndex(of: unit)!
                default: break
                }
            }
            kinds.append(kind)
            parameters.append(parameter)
            ruleOf.append(chain.steps.first?.rule ?? 0)
        }
        self.memos = memos
        self.redactors = redactors
        self.kinds = kinds
        self.parameters = parameters
        self.ruleOf = ruleOf
        valueStart = Array(repeating: 0, count: plan.chains.count)
        valueEnd = Array(repeating: -1, count: plan.chains.count)
    }

    // MARK: - Passes

    mutating func observe(_ chunk: DelimitedChunk) throws -> [UInt32] {
        guard kAnonymity != nil else { return [] }
        var ids = [UInt32](repeating: 0, count: chunk.rows)
        let width = chunk.width
        var arena: [UInt8] = []
        swap(&arena, &self.arena)
        defer { swap(&arena, &self.arena) }
        try chunk.bytes.withUnsafeBufferPointer { text in
            try chunk.spans.withUnsafeBufferPointer { spans in
                let base = text.baseAddress!
                for row in 0 ..< chunk.rows {
                    let fields = spans.baseAddress! + row * width * 2
                    arena.removeAll(keepingCapacity: true)
                    key.removeAll(keepingCapacity: true)
                    for chain in classChains {
                        try evaluate(chain, base: base, fields: fields, record: row + 1, counting: false, arena: &arena)
                    }
                    arena.withUnsafeBytes { values in
                        for (column, chain) in classChains.enumerated() {
                            let (bytes, _) = value(chain, base: base, fields: fields, arena: values)
                            appendClassPart(bytes, column: column)
                        }
                    }
                    let (id, inserted) = key.withUnsafeBytes { classes.insert($0) }
                    if inserted { classSizes.append(1) } else { classSizes[id] += 1 }
                    ids[row] = UInt32(truncatingIfNeeded: id)
                }
            }
        }
        return ids
    }

    mutating func govern(_ chunk: DelimitedChunk, classIds: [UInt32], sizes: [Int32],
                         dialects: [ColumnarLane.Dialect], scanner: PIIScanner, into outputs: inout [[UInt8]]) throws {
        let width = chunk.width
        var buffers = outputs
        outputs = []
        defer { outputs = buffers }
        var arena: [UInt8] = []
        swap(&arena, &self.arena)
        defer { swap(&arena, &self.arena) }
        let delimiters = dialects.map(\.delimiter)
        let terminators = dialects.map(\.lineTerminator)
        try chunk.bytes.withUnsafeBufferPointer { text in
            try chunk.spans.withUnsafeBufferPointer { spans in
                let base = text.baseAddress!
                rows: for row in 0 ..< chunk.rows {
                    let fields = spans.baseAddress! + row * width * 2
                    arena.removeAll(keepingCapacity: true)
                    for chain in stepChains {
                        try evaluate(chain, base: base, fields: fields, record: row + 1, counting: true, arena: &arena)
                    }
                    if let kAnonymity {
                        let size = Int(sizes[Int(classIds[row])])
                        if size < kAnonymity.k {
                            if kAnonymity.fail {
                                throw GovernanceError("k-anonymity gate: a class of the quasi-identifiers has \(size) "
                                                      + "record(s), fewer than k = \(kAnonymity.k) (action: fail)")
                            }
                            stats[kAnonymity.rule].rowsDropped += 1
                            continue rows
                        }
                        smallestKept = min(smallestKept, size)
                    }
                    arena.withUnsafeBytes { values in
                        if gateMode != .off {
                            var found = false
                            for (column, chain) in output.enumerated() where scanned[column] {
                                let (bytes, null) = value(chain, base: base, fields: fields, arena: values)
                                if !null, PIIScanner.mayHoldPersonalData(bytes: bytes),
                                   scan(bytes, column: column, scanner: scanner) {
                                    found = true
                                }
                            }
                            if found && gateMode == .suppress {
                                gateSuppressed += 1
                                return
                            }
                        }
                        rowsOut += 1
                        for number in delimiters.indices {
                            let delimiter = delimiters[number]
                            for (column, chain) in output.enumerated() {
                                if column > 0 { buffers[number].append(delimiter) }
                                let (bytes, _) = value(chain, base: base, fields: fields, arena: values)
                                CSVQuoting.append(bytes, delimiter: delimiter, to: &buffers[number])
                            }
                            buffers[number].append(contentsOf: terminators[number])
                        }
                    }
                }
            }
        }
    }

    /// The PII gate on one value: detectors run once per distinct value of a column (memoized by bytes), findings
    /// counted for every occurrence.
    private mutating func scan(_ bytes: UnsafeRawBufferPointer, column: Int, scanner: PIIScanner) -> Bool {
        if let known = gateMemo[column].find(bytes) {
            let names = gateFound[column][known]
            scanner.record(names, field: self.names[column])
            return !names.isEmpty
        }
        let found = scanner.detect(String(decoding: bytes, as: UTF8.self), field: names[column])
        if gateMemo[column].count >= LaneState.gateMemoLimit {
            gateMemo[column].removeAll()
            gateFound[column].removeAll(keepingCapacity: true)
        }
        _ = gateMemo[column].insert(bytes)
        gateFound[column].append(found)
        return !found.isEmpty
    }

    // MARK: - Chains

    /// The chain's current value (empty for null) and whether it is null.
    @inline(__always)
    private func value(_ chain: Int, base: UnsafePointer<UInt8>, fields: UnsafePointer<Int32>,
                       arena: UnsafeRawBufferPointer) -> (UnsafeRawBufferPointer, Bool) {
        let start: Int, end: Int
        if kinds[chain] == .verbatim {
            start = Int(fields[sources[chain] &* 2])
            end = Int(fields[sources[chain] &* 2 &+ 1])
            return (UnsafeRawBufferPointer(start: base + start, count: max(0, end - start)), end < start)
        }
        start = valueStart[chain]
        end = valueEnd[chain]
        guard end > start else { return (UnsafeRawBufferPointer(start: nil, count: 0), end < start) }
        return (UnsafeRawBufferPointer(rebasing: arena[start ..< end]), false)
    }

    /// Appends the canonical id of quasi-identifier `column`'s value to the class key.
    ///
    /// The row engine's class key is each value's UTF-8 length, a colon and the value, compared as a Swift string
    /// (canonical equivalence): two values are in one class when their byte lengths are equal and their NFC forms
    /// are. The canonical table is keyed by exactly that: the length (four bytes), then the NFC form.
    @inline(__always)
    private mutating func appendClassPart(_ bytes: UnsafeRawBufferPointer, column: Int) {
        let (raw, inserted) = columnRaw[column].insert(bytes)
        if inserted {
            var ascii = true
            for byte in bytes where byte >= 0x80 { ascii = false; break }
            var canonical: [UInt8] = []
            withUnsafeBytes(of: UInt32(truncatingIfNeeded: bytes.count)) { canonical.append(contentsOf: $0) }
            if ascii {
                canonical.append(contentsOf: bytes)
            } else {
                canonical.append(contentsOf: String(decoding: bytes, as: UTF8.self).precomposedStringWithCanonicalMapping.utf8)
            }
            let canonicalId = canonical.withUnsafeBytes { columnCanonical[column].insert($0).id }
            columnMap[column].append(UInt32(truncatingIfNeeded: canonicalId))
        }
        withUnsafeBytes(of: columnMap[column][raw]) { key.append(contentsOf: $0) }
    }

    mutating func releaseClasses() {
        classes = ByteTable(capacity: 1)
        classSizes = []
        columnRaw = columnRaw.map { _ in ByteTable(capacity: 1) }
        columnCanonical = columnCanonical.map { _ in ByteTable(capacity: 1) }
    }

    /// The whole-run key of local class `id`: per quasi-identifier, the byte length, a colon, the NFC text.
    func classKey(_ id: Int, into key: inout [UInt8]) {
        key.removeAll(keepingCapacity: true)
        classes.withKey(id) { composite in
            for column in columnCanonical.indices {
                let canonicalId = Int(composite.loadUnaligned(fromByteOffset: column * 4, as: UInt32.self))
                columnCanonical[column].withKey(canonicalId) { entry in
                    TextKernels.appendInteger(Int64(entry.loadUnaligned(as: UInt32.self)), to: &key)
                    key.append(UInt8(ascii: ":"))
                    key.append(contentsOf: UnsafeRawBufferPointer(rebasing: entry[4...]))
                }
            }
        }
    }

    /// Runs the chain's steps on the row's field, appending the result to `arena`.
    @inline(__always)
    private mutating func evaluate(_ chain: Int, base: UnsafePointer<UInt8>, fields: UnsafePointer<Int32>,
                                   record: Int, counting: Bool, arena: inout [UInt8]) throws {
        let source = sources[chain]
        let start = Int(fields[source &* 2]), end = Int(fields[source &* 2 &+ 1])
        guard end >= start else {
            valueStart[chain] = 0
            valueEnd[chain] = -1
            return
        }
        let input = UnsafeRawBufferPointer(start: base + start, count: end - start)
        let from = arena.count
        var changed = true
        var null = false
        switch kinds[chain] {
        case .verbatim:
            return
        case .pseudonymize:
            pseudonymize(parameters[chain], input, into: &arena)
        case .band:
            if let number = TextKernels.integer(input) {
                LaneState.appendBand(number, width: parameters[chain], to: &arena)
                changed = !arena[from...].elementsEqual(input)
            } else {
                changed = try apply(steps[chain][0], to: input, into: &arena, null: &null, record: record)
            }
        case .decimals:
            if !TextKernels.appendFixed(input, scale: parameters[chain], to: &arena) {
                changed = try apply(steps[chain][0], to: input, into: &arena, null: &null, record: record)
            }
        case .truncate:
            if !TextKernels.appendTruncatedDateTime(input, unit: TimeUnit.allCases[parameters[chain]], to: &arena) {
                changed = try apply(steps[chain][0], to: input, into: &arena, null: &null, record: record)
            }
        case .single:
            changed = try apply(steps[chain][0], to: input, into: &arena, null: &null, record: record)
        case .several:
            var value = Array(input)
            var next: [UInt8] = []
            for step in steps[chain] where !null {
                next.removeAll(keepingCapacity: true)
                let stepChanged = try value.withUnsafeBytes { input in
                    try apply(step, to: input, into: &next, null: &null, record: record)
                }
                if counting && stepChanged { stats[step.rule].valuesChanged += 1 }
                swap(&value, &next)
            }
            arena.append(contentsOf: value)
            changed = false  // counted per step
        }
        if counting && changed { stats[ruleOf[chain]].valuesChanged += 1 }
        valueStart[chain] = from
        valueEnd[chain] = null ? from - 1 : arena.count
    }

    /// One step on a non-null text value, appending the result to `output`; returns whether the value changed (as
    /// the row engine counts it). The general path: the byte kernels' fallbacks and the steps without a kernel.
    private mutating func apply(_ step: ColumnarPlan.Step, to input: UnsafeRawBufferPointer,
                                into output: inout [UInt8], null: inout Bool, record: Int) throws -> Bool {
        switch step.operation {
        case .pseudonymize:
            pseudonymize(step.id, input, into: &output)
            return true
        case .generalize(let method):
            let start = output.count
            switch method {
            case .band(let width):
                if let number = TextKernels.integer(input) {
                    LaneState.appendBand(number, width: width, to: &output)
                    return !output[start...].elementsEqual(input)
                }
            case .decimals(let scale):
                if TextKernels.appendFixed(input, scale: scale, to: &output) { return true }
            case .truncate(let unit):
                if TextKernels.appendTruncatedDateTime(input, unit: unit, to: &output) { return true }
            case .lookup:
                break
            }
            let original = Value.string(String(decoding: input, as: UTF8.self))
            guard let value = GeneralizeRule.generalize(original, method) else {
                throw ColumnarLane.RecordError(field: step.field, record: record, expected: method.expected)
            }
            if value.isNull { null = true }
            output.append(contentsOf: value.text.utf8)
            return value != original
        case .redact(let rule, let minimumDigits):
            if minimumDigits > 0 {
                var digits = 0, ascii = true
                for byte in input {
                    if byte &- 48 < 10 {
                        digits += 1
                    } else if byte >= 0x80 {
                        ascii = false
                        if byte == 0xEF { digits += 1 }  // the lead byte of full-width forms (０–９)
                    }
                }
                if digits < minimumDigits && (ascii || !rule.normalize) {
                    output.append(contentsOf: input)
                    return false
                }
            }
            guard let redactor = redactors[step.id] else { throw GovernanceError("rule 'redact' could not be bound") }
            var record: Record = [.string(String(decoding: input, as: UTF8.self))]
            let before = redactor.stats.valuesChanged
            _ = try redactor.apply(&record)
            output.append(contentsOf: record[0].text.utf8)
            return redactor.stats.valuesChanged != before
        }
    }

    /// `generalize: { band: width }` of an integer: `low-high`, as the row engine writes it.
    @inline(__always)
    static func appendBand(_ number: Int64, width: Int, to output: inout [UInt8]) {
        let wide = Int64(width)
        let low = GeneralizeRule.floorDivide(number, wide) * wide
        TextKernels.appendInteger(low, to: &output)
        output.append(UInt8(ascii: "-"))
        TextKernels.appendInteger(low + wide - 1, to: &output)
    }

    private mutating func pseudonymize(_ id: Int, _ input: UnsafeRawBufferPointer, into output: inout [UInt8]) {
        let length = memos[id].length
        if let known = memos[id].table.find(input) {
            memos[id].digests.withUnsafeBytes { digests in
                output.append(contentsOf: UnsafeRawBufferPointer(rebasing: digests[known &* length ..< (known &+ 1) &* length]))
            }
            return
        }
        var mac = memos[id].mac
        mac.update(data: input)
        let digest = mac.finalize()
        let start = output.count
        digest.withUnsafeBytes { bytes in
            for byte in bytes.prefix((length + 1) / 2) {
                output.append(LaneState.hexDigits[Int(byte >> 4)])
                output.append(LaneState.hexDigits[Int(byte & 0x0F)])
            }
        }
        if output.count - start > length { output.removeLast() }
        if memos[id].table.count >= PseudonymMemo.limit {
            memos[id].table.removeAll()
            memos[id].digests.removeAll(keepingCapacity: true)
        }
        _ = memos[id].table.insert(input)
        memos[id].digests.append(contentsOf: output[start...])
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}
