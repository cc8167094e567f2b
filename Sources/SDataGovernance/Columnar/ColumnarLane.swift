import CSDataIntrinsics
public import SDataCore
import Crypto
import Foundation

/// One worker's share of a columnar run: it governs the chunks it takes, in input order, with state of its own
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
    var classSizes: [Int32] { state.classSizes }
    var classColumns: Int { state.classColumns }
    /// Per quasi-identifier, the canonical values this lane has seen (the length, then the NFC form), by id.
    var canonicalValues: [ByteTable] { state.canonicalValues }
    /// Each local class's canonical ids, `classColumns` of them per class. (Whole arrays: a call per element would
    /// copy the lane's state each time.)
    var classParts: [UInt32] { state.classParts }

    /// Frees the class table once the run's class sizes are merged (the final pass needs only the sizes).
    func releaseClasses() { state.releaseClasses() }

    /// Frees what only pass 1 uses (pseudonym and gate memos, column dictionaries, scratch), before the class sizes
    /// are merged: pass 2 reads ids, sizes and finding sets.
    public func releasePassOne() { state.releasePassOne() }

    /// Pass 1: governs every row of `chunk` — each rule's kernel, the k-anonymity class (counted), the PII gate's
    /// findings (found, not yet counted) — and formats the rows in each dialect. Errors number records from the
    /// chunk's first (``RecordError``).
    public func govern(_ chunk: DelimitedChunk, dialects: [Dialect]) throws -> GovernedChunk {
        var work = LaneState.empty
        swap(&work, &state)
        defer { swap(&work, &state) }
        return try work.govern(chunk, dialects: dialects, scanner: scanner)
    }

    /// Pass 2: decides which of a governed chunk's rows are published, now that `sizes` (the whole run's class sizes
    /// by this lane's ids) are known, and counts the gate's findings of those rows. `meta` is the chunk's
    /// ``GovernedChunk/meta`` as bytes; each of `texts` (one per dialect) is compacted in place to the published rows,
    /// and the new lengths returned.
    public func finish(meta: UnsafeRawBufferPointer, texts: [UnsafeMutableRawBufferPointer],
                       sizes: [Int32]) throws -> [Int] {
        var work = LaneState.empty
        swap(&work, &state)
        defer { swap(&work, &state) }
        return try work.finish(meta: meta, texts: texts, sizes: sizes, scanner: scanner)
    }

    /// One delimited output: the dialect's delimiter and line terminator.
    public struct Dialect: Sendable {
        public let delimiter: UInt8
        public let lineTerminator: [UInt8]
        /// The terminator's bytes as a number (the first in the low byte) when it has at most eight (LF, CRLF),
        /// else `nil`: the row loop stores it as one word.
        let terminatorWord: UInt64?
        public init(delimiter: UInt8, lineTerminator: String) {
            self.delimiter = delimiter
            self.lineTerminator = Array(lineTerminator.utf8)
            var word: UInt64 = 0
            for (index, byte) in self.lineTerminator.enumerated().reversed() where index < 8 {
                word = word << 8 | UInt64(byte)
            }
            terminatorWord = self.lineTerminator.count <= 8 ? word : nil
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

/// One chunk after pass 1: its rows formatted in each dialect, and what pass 2 needs to keep or drop each row.
public struct GovernedChunk: Sendable {
    public let rows: Int
    /// Little-endian words: a header (rows, 1 when rows have classes, the gate's column count, the dialect count, the
    /// number of findings), then each row's class id, per dialect where each row's text ends, and the gate's findings
    /// as pairs (`row * gateColumns + column`, finding set id) in that order. Findings are sparse — most values hold
    /// nothing — so a word per row and gate column made a third of the governed stage.
    public let meta: [UInt32]
    /// Per dialect, the formatted rows.
    public let texts: [RawBytes]
}

/// A pseudonymize step's memo and the keyed MAC: memory does not grow with the number of distinct values. Values of
/// up to 16 bytes with pseudonyms of up to 16 hex digits (phone numbers) keep the MAC's first eight bytes in the key's
/// slot of a bounded cache (``ShortKeyMemo``); others keep `length` hex bytes in `digests`, by the key's id in
/// `table`, at most ``limit`` of them (then it starts again).
struct PseudonymMemo {
    var table = ByteTable(capacity: 1 << 12)
    var digests: [UInt8] = []
    var short = ShortKeyMemo()
    let mac: PrecomputedHMAC
    let length: Int
    static let limit = 1 << 16
}

/// HMAC-SHA256 (RFC 2104) with the key's two padded blocks hashed once: a value costs two SHA-256 compressions, where
/// `HMAC<SHA256>` hashes the outer key block again for every value. Equal to `HMAC<SHA256>` (property-tested).
public struct PrecomputedHMAC {
    private let inner: SHA256
    private let outer: SHA256

    public init(key: [UInt8]) {
        var block = key.count > 64 ? Array(SHA256.hash(data: key)) : key
        block += [UInt8](repeating: 0, count: 64 - block.count)
        var inner = SHA256(), outer = SHA256()
        inner.update(data: block.map { $0 ^ 0x36 })
        outer.update(data: block.map { $0 ^ 0x5C })
        self.inner = inner
        self.outer = outer
    }

    /// The MAC of `message`, handed to `body` as 32 bytes.
    @inline(__always)
    public func authenticate<R>(_ message: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        var first = inner
        first.update(bufferPointer: message)
        var second = outer
        first.finalize().withUnsafeBytes { second.update(bufferPointer: $0) }
        return second.finalize().withUnsafeBytes(body)
    }
}

struct LaneState {
    /// How a chain is computed: copied from the field, one step with a byte kernel (its parameter in `parameters`),
    /// one redaction with a digit prefilter (its minimum in `parameters`), one other step, or several steps.
    enum Kind: UInt8 {
        case verbatim, pseudonymize, band, decimals, truncate, redact, single, several
    }

    // The plan, flattened into arrays of plain values.
    private let sources: FlatArray<Int>
    private let kinds: FlatArray<Kind>
    /// Per chain: the memo index, band width, scale or time unit of its single step.
    private let parameters: FlatArray<Int>
    /// Per chain: the rule its single step belongs to (statistics).
    private let ruleOf: [Int]
    /// Per chain: whether its single redaction normalizes full-width forms first.
    private let normalizes: FlatArray<Bool>
    private let steps: [[ColumnarPlan.Step]]
    /// Chains with steps, and the k-anonymity chains.
    private let stepChains: FlatArray<Int>
    /// The pseudonymizing chains whose memo is a ``ShortKeyMemo`` (values of up to 16 bytes): their buckets are
    /// prefetched ahead of the row.
    private let memoChains: FlatArray<Int>
    private let classChains: FlatArray<Int>
    private let output: FlatArray<Int>
    /// The output columns the PII gate scans (none when it is off).
    private let gateColumns: FlatArray<Int>
    private let names: [String]
    private let kAnonymity: (rule: Int, k: Int, fail: Bool)?
    private let gateMode: PIIGateMode

    private(set) var stats: [RuleStats]
    private(set) var rowsOut = 0
    private(set) var gateSuppressed = 0
    private(set) var smallestKept = Int.max
    /// The k-anonymity classes seen: per class id (0, 1, 2, … in order of first sight) its size and its
    /// quasi-identifiers' canonical ids (four bytes each) in ``classParts``.
    private(set) var classSizes: [Int32] = []
    private(set) var classParts: [UInt32] = []
    /// The classes of the lane's first chunk and those whose key does not fit ``dense``, keyed by their canonical ids
    /// (a short key), and each key's class id (the table numbers only its own keys).
    private var classes = ByteTable(capacity: 4096)
    private var tableClass: [UInt32] = []
    /// A direct-mapped index of the classes: the class key's canonical ids as mixed-radix digits (column `c`'s
    /// digit below `denseRadix[c]`, a little more than the values the lane's first chunk showed) → the class id + 1,
    /// 0 when not yet seen. A row whose ids all fit finds its class with one load from a flat array instead of a
    /// probe of the class table (a cache miss on most rows), and a class first seen in such a row is entered here
    /// alone; a row with an id beyond its digit takes the table. Set up after the lane's first chunk (whose classes
    /// it then takes from the table), at most ``denseLimit`` entries.
    private var dense: [UInt32] = []
    private var denseRadix: [Int] = []
    private var denseReady = false
    static let denseLimit = 1 << 20

    /// Per gate column: the finding set of each value seen (bounded), by bytes. Finding sets are interned for the
    /// whole run (`findingSets[0]` is the empty one), so that rows carry one small id per column to pass 2.
    private var gateMemo: [ByteTable]
    private var gateSets: [[UInt32]]
    private var findingSets: [[String]] = [[]]
    private var findingSetIds: [[String]: UInt32] = [[]: 0]
    private static let gateMemoLimit = 1 << 12

    private var memos: [PseudonymMemo]
    private var redactors: [RedactStep?]
    /// Per quasi-identifier: its values as read (→ raw ids), the id of each one's NFC form, and the NFC forms
    /// (→ canonical ids). Classes compare by canonical equivalence, as Swift strings do; the class table is keyed by
    /// the canonical ids, four bytes each, so that a class lookup compares one short key.
    private var columnRaw: [ByteTable] = []
    private var columnMap: [[UInt32]] = []
    private var columnCanonical: [ByteTable] = []
    /// The values seen last, in front of `columnRaw` and `columnMap`; per gate column, the finding sets of the
    /// values seen last (in the entries' `raw`), in front of the prefilter and `gateMemo`. A value's finding set
    /// depends on its bytes alone, and set ids are never reused.
    private let valueCache: ValueCache
    private let gateCache: ValueCache
    /// Per quasi-identifier, by raw id: whether the PII gate's prefilter lets the value through
    /// (``PIIScanner/mayHoldPersonalData(raw:)``), decided once per distinct value. Per gate column: the
    /// quasi-identifier whose value it scans, or -1.
    private var columnMayHold: [[Bool]] = []
    private let gateClassColumn: FlatArray<Int>

    /// The current row's values of chains with steps, in `arena` (where each one lies: ``RowScratch/spans``).
    private var arena = RawBytes()
    private let units = TimeUnit.allCases
    /// Scratch for chains of several steps and for the row engine's path.
    private var scratch: (RawBytes, RawBytes) = (RawBytes(capacity: 64), RawBytes(capacity: 64))

    static var empty: LaneState { LaneState() }

    private init() {
        sources = []; kinds = []; parameters = []; ruleOf = []; normalizes = []; steps = []; stepChains = []; memoChains = []; classChains = []
        columnRaw = []; columnMap = []; columnCanonical = []; columnMayHold = []; gateClassColumn = []
        output = []; gateColumns = []; names = []; valueCache = ValueCache(columns: 0); gateCache = ValueCache(columns: 0)
        kAnonymity = nil; gateMode = .off; stats = []; memos = []; redactors = []
        gateMemo = []; gateSets = []
    }

    init(plan: ColumnarPlan) {
        sources = FlatArray(plan.chains.map(\.source))
        steps = plan.chains.map(\.steps)
        stepChains = FlatArray(plan.evaluated.filter { !plan.chains[$0].steps.isEmpty })
        classChains = FlatArray(plan.kAnonymity?.chains ?? [])
        columnRaw = classChains.map { _ in ByteTable(capacity: 64) }
        columnMap = classChains.map { _ in [] }
        columnCanonical = classChains.map { _ in ByteTable(capacity: 64) }
        columnMayHold = classChains.map { _ in [] }
        valueCache = ValueCache(columns: classChains.count)
        output = FlatArray(plan.output)
        gateColumns = FlatArray(plan.gateMode == .off ? [] : plan.scanned.indices.filter { plan.scanned[$0] })
        gateClassColumn = FlatArray(gateColumns.map { [classChains, output] column in classChains.firstIndex(of: output[column]) ?? -1 })
        gateMemo = gateColumns.map { _ in ByteTable(capacity: 1024) }
        gateCache = ValueCache(columns: gateColumns.count)
        gateSets = gateColumns.map { _ in [] }
        names = plan.outputSchema.fields.map(\.name)
        kAnonymity = plan.kAnonymity.map { ($0.rule, $0.k, $0.fail) }
        gateMode = plan.gateMode
        stats = Array(repeating: RuleStats(), count: plan.rules.count)
        let unused = PseudonymMemo(table: ByteTable(capacity: 1), short: ShortKeyMemo(capacity: 1),
                                   mac: PrecomputedHMAC(key: []), length: 0)
        var memos = Array(repeating: unused, count: plan.steps)
        var redactors = [RedactStep?](repeating: nil, count: plan.steps)
        var kinds: [Kind] = [], parameters: [Int] = [], ruleOf: [Int] = [], normalizes: [Bool] = []
        for chain in plan.chains {
            for step in chain.steps {
                switch step.operation {
                case .pseudonymize(let key, let length):
                    memos[step.id] = PseudonymMemo(mac: PrecomputedHMAC(key: key), length: length)
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
            var kind = Kind.several, parameter = 0, normalize = false
            if chain.steps.isEmpty {
                kind = .verbatim
            } else if chain.steps.count == 1 {
                kind = .single
                switch chain.steps[0].operation {
                case .pseudonymize: kind = .pseudonymize; parameter = chain.steps[0].id
                case .generalize(.band(let width)): kind = .band; parameter = width
                case .generalize(.decimals(let scale)): kind = .decimals; parameter = scale
                case .generalize(.truncate(let unit)): kind = .truncate; parameter = TimeUnit.allCases.firstIndex(of: unit)!
                case .redact(let rule, let minimumDigits) where minimumDigits > 0:
                    kind = .redact; parameter = minimumDigits; normalize = rule.normalize
                default: break
                }
            }
            kinds.append(kind)
            parameters.append(parameter)
            ruleOf.append(chain.steps.first?.rule ?? 0)
            normalizes.append(normalize)
        }
        self.normalizes = FlatArray(normalizes)
        self.memos = memos
        self.redactors = redactors
        self.kinds = FlatArray(kinds)
        self.parameters = FlatArray(parameters)
        memoChains = FlatArray(plan.evaluated.filter { kinds[$0] == .pseudonymize && memos[parameters[$0]].length <= 16 })
        self.ruleOf = ruleOf
    }

    // MARK: - Passes

    /// Words before a governed chunk's per-row meta (``GovernedChunk/meta``).
    static let metaHeader = 5

    mutating func govern(_ chunk: DelimitedChunk, dialects: [ColumnarLane.Dialect],
                         scanner: PIIScanner) throws -> GovernedChunk {
        let width = chunk.width, rows = chunk.rows
        let hasClasses = kAnonymity != nil
        let gateCount = gateColumns.count
        let classBase = LaneState.metaHeader, endsBase = classBase + (hasClasses ? rows : 0)
        let fixedCount = endsBase + rows * dialects.count
        // The fixed part (written through a pointer: a closure around the loop, as `withUnsafeMutableBufferPointer`
        // takes, made every call of a non-mutating method copy the state), then the findings appended.
        let meta = UnsafeMutablePointer<UInt32>.allocate(capacity: fixedCount)
        meta.initialize(repeating: 0, count: fixedCount)
        defer { meta.deinitialize(count: fixedCount).deallocate() }
        meta[0] = UInt32(rows)
        meta[1] = hasClasses ? 1 : 0
        meta[2] = UInt32(gateCount)
        meta[3] = UInt32(dialects.count)
        var findings: [UInt32] = []
        var arena = RawBytes(capacity: 0)
        swap(&arena, &self.arena)
        defer { swap(&arena, &self.arena) }
        let row = RowScratch(chains: kinds.count, rules: stats.count, classColumns: classChains.count,
                             dialects: dialects, capacity: chunk.text.count + chunk.text.count / 4)
        defer {
            for rule in stats.indices { stats[rule].valuesChanged += row.changed[rule] }
            row.free()
        }
        let classKey = row.classKey, texts = row.texts
        let dialectCount = dialects.count, delimiters = dialects.map(\.delimiter)
        // Per dialect: whether no byte a kernel writes is its delimiter (then kernel values need no quotes).
        let kernelPlain = delimiters.map { !LaneState.kernelAlphabet.contains($0) }
        // The loops run in this method's body, not in closures: a closure capturing `self` would copy the state to
        // call its non-mutating methods. The chunk outlives the pointers.
        // Rows ahead of the current one whose pseudonym-memo buckets are prefetched, and rows a class waits before
        // it is counted (its dense-index entry prefetched meanwhile): both tables are megabytes, and a lookup that
        // waits for memory was 12–15 % of pass 1 (perf, 1M rows: the memo's slot 8 %, the dense entry 4 %, then the
        // class count 2 %; ~1 % after). A row's work covers a miss many times over.
        let ahead = 2
        let classCount = classChains.count
        // Rows a class waits before it is counted (`RowScratch.pendingIndex` holds four).
        let lag = 2
        let pendingIndex = row.pendingIndex, pendingKeys = row.pendingKeys
        try withExtendedLifetime(chunk) {
            let base = chunk.addresses
            let spans = chunk.spans.withUnsafeBufferPointer { $0.baseAddress! }
            for number in 0 ..< rows {
                let fields = spans + number * width * 2
                if number &+ ahead < rows {
                    let later = fields + ahead * width * 2
                    for chain in memoChains {
                        let start = Int(later[sources[chain] &* 2]), end = Int(later[sources[chain] &* 2 &+ 1])
                        if end >= start && end - start <= ShortKeyMemo.maximumKey {
                            memos[parameters[chain]].short.prefetch(
                                UnsafeRawBufferPointer(start: base.at(start), count: end - start))
                        }
                    }
                }
                arena.removeAll()
                for chain in stepChains {
                    try evaluate(chain, base: base, fields: fields, record: number + 1, arena: &arena, row: row)
                }
                let values = arena.bytes
                if hasClasses {
                    var index = 0, fits = denseReady
                    for column in classChains.indices {
                        let (bytes, _) = value(classChains[column], base: base, fields: fields, arena: values, row: row)
                        let part = classPart(bytes, column: column, row: row)
                        classKey[column] = part
                        if fits {
                            let radix = denseRadix[column]
                            if Int(part) < radix { index = index &* radix &+ Int(part) } else { fits = false }
                        }
                    }
                    if fits { dense.withUnsafeBufferPointer { sdata_prefetch_write($0.baseAddress! + index) } }
                    let slot = number & 3
                    pendingIndex[slot] = fits ? index : -1
                    (pendingKeys + slot * classCount).update(from: classKey, count: classCount)
                    // The previous row's dense entry has arrived by now: its class's count is prefetched (an empty
                    // entry is a class the lane has not seen yet, a sixth of the rows at 1M: nothing to fetch), or,
                    // for a key beyond the index's digits, its slot in the class table. (Prefetching that slot for
                    // every row cost more than the misses it saved.)
                    if number >= 1 {
                        let previousSlot = (number - 1) & 3
                        let previous = pendingIndex[previousSlot]
                        if previous >= 0 {
                            let entry = dense[previous]
                            if entry != 0 {
                                classSizes.withUnsafeBufferPointer { sdata_prefetch_write($0.baseAddress! + Int(entry &- 1)) }
                            }
                        } else {
                            classes.prefetch(UnsafeRawBufferPointer(start: pendingKeys + previousSlot * classCount,
                                                                    count: classCount * 4))
                        }
                    }
                    if number >= lag {
                        let earlier = (number - lag) & 3
                        meta[classBase + number - lag] = countClass(index: pendingIndex[earlier],
                                                                    key: pendingKeys + earlier * classCount)
                    }
                }
                for column in 0 ..< gateCount {
                    // A quasi-identifier's value was seen by the class key: its prefilter verdict is known.
                    let classColumn = gateClassColumn[column]
                    if classColumn >= 0, !columnMayHold[classColumn][row.rawIds[classColumn]] { continue }
                    let (bytes, null) = value(output[gateColumns[column]], base: base, fields: fields,
                                              arena: values, row: row)
                    if null { continue }
                    let set: UInt32
                    if PIIScanner.isRuledOutByWords(bytes) {
                        // ASCII text without what a detector needs (ids, coordinates, amounts): decided from the
                        // bytes alone, cheaper than a probe of the cache (perf, 1M rows: the cache's entry for a
                        // distinct event id was a load from L2 on every row, 10 % of `govern`).
                        set = 0
                    } else if bytes.count <= ValueCache.maximumLength {
                        // A short value seen lately (a merchant) has its finding set in the cache: the byte loop of
                        // the prefilter (which all Hangul text takes) does not run again.
                        let words = ValueCache.words(bytes)
                        let entry = gateCache.entry(column: column, words: words, length: bytes.count)
                        if ValueCache.holds(entry, words, length: bytes.count) {
                            set = entry.pointee.raw
                        } else {
                            set = PIIScanner.mayHoldPersonalData(bytes: bytes)
                                ? findingSet(bytes, number: column, scanner: scanner) : 0
                            entry.pointee = ValueCache.Entry(words: words, length: UInt32(truncatingIfNeeded: bytes.count),
                                                             raw: set, canonical: 0)
                        }
                    } else {
                        set = PIIScanner.mayHoldPersonalData(bytes: bytes)
                            ? findingSet(bytes, number: column, scanner: scanner) : 0
                    }
                    if set != 0 {
                        findings.append(UInt32(truncatingIfNeeded: number * gateCount + column))
                        findings.append(set)
                    }
                }
                for dialect in 0 ..< dialectCount {
                    let delimiter = delimiters[dialect], plainKernels = kernelPlain[dialect]
                    // The row is written through a local pointer, the room checked against a local limit: the
                    // buffer's count and capacity, behind a pointer, were loaded and stored again for every field.
                    var out = texts[dialect].end, limit = texts[dialect].limit
                    for column in output.indices {
                        let (bytes, _) = value(output[column], base: base, fields: fields, arena: values, row: row)
                        let room = csvFieldRoom(bytes.count) &+ 1
                        if _slowPath(limit - out < room) {
                            texts[dialect].advance(to: out)
                            texts[dialect].reserve(room)
                            out = texts[dialect].end
                            limit = texts[dialect].limit
                        }
                        if column > 0 {
                            out.pointee = delimiter
                            out += 1
                        }
                        if plainKernels && row.kernelMade[output[column]] && !bytes.isEmpty {
                            // Nothing in a kernel's output needs quotes: copied as it is.
                            ByteScan.copy(from: bytes.baseAddress.unsafelyUnwrapped, to: out, count: bytes.count)
                            out += bytes.count
                        } else {
                            out += writeCSVField(bytes, delimiter: delimiter, at: out)
                        }
                    }
                    texts[dialect].advance(to: out)
                    if let word = row.terminatorWords[dialect] {
                        texts[dialect].append(word: word, count: row.terminatorCounts[dialect])
                    } else {
                        texts[dialect].append(dialects[dialect].lineTerminator)
                    }
                    meta[endsBase + dialect * rows + number] = UInt32(truncatingIfNeeded: texts[dialect].count)
                }
            }
        }
        if hasClasses {
            for number in max(rows - lag, 0) ..< rows {
                meta[classBase + number] = countClass(index: pendingIndex[number & 3],
                                                      key: pendingKeys + (number & 3) * classCount)
            }
            if !denseReady { prepareDenseClasses() }
        }
        meta[4] = UInt32(findings.count / 2)
        var words = Array(UnsafeBufferPointer(start: meta, count: fixedCount))
        words.append(contentsOf: findings)
        return GovernedChunk(rows: rows, meta: words, texts: Array(UnsafeBufferPointer(start: texts, count: dialectCount)))
    }

    mutating func finish(meta: UnsafeRawBufferPointer, texts: [UnsafeMutableRawBufferPointer], sizes: [Int32],
                         scanner: PIIScanner) throws -> [Int] {
        @inline(__always) func word(_ index: Int) -> Int {
            Int(meta.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self).littleEndian)
        }
        let damaged = GovernanceError("the governed stage is damaged")
        guard meta.count >= LaneState.metaHeader * 4 else { throw damaged }
        let rows = word(0), hasClasses = word(1) == 1, gateCount = word(2), dialects = word(3), findingCount = word(4)
        let classBase = LaneState.metaHeader, endsBase = classBase + (hasClasses ? rows : 0)
        let findingsBase = endsBase + rows * dialects
        guard meta.count == (findingsBase + 2 * findingCount) * 4, dialects == texts.count,
              hasClasses == (kAnonymity != nil), gateCount == gateColumns.count else { throw damaged }
        var kept = [Bool](repeating: true, count: rows)
        // The next finding not yet read.
        var finding = 0
        // The class sizes are read in row order at random places (hundreds of kilobytes): each row's is asked for
        // eight rows ahead, or waiting for it was most of this loop (`perf`, 1M rows: 56 % of it).
        let ahead = 8
        for row in 0 ..< rows {
            if hasClasses, row &+ ahead < rows {
                let later = word(classBase &+ row &+ ahead)
                if later < sizes.count { sizes.withUnsafeBufferPointer { sdata_prefetch_read($0.baseAddress! + later) } }
            }
            // Findings of rows dropped by k-anonymity are passed over (they are counted for published rows only).
            while finding < findingCount && word(findingsBase + 2 * finding) < row * gateCount { finding += 1 }
            if let kAnonymity {
                let id = word(classBase + row)
                guard id < sizes.count else { throw damaged }
                let size = Int(sizes[id])
                if size < kAnonymity.k {
                    if kAnonymity.fail {
                        throw GovernanceError("k-anonymity gate: a class of the quasi-identifiers has \(size) "
                                              + "record(s), fewer than k = \(kAnonymity.k) (action: fail)")
                    }
                    stats[kAnonymity.rule].rowsDropped += 1
                    kept[row] = false
                    continue
                }
                smallestKept = min(smallestKept, size)
            }
            var found = false
            while finding < findingCount {
                let place = word(findingsBase + 2 * finding), set = word(findingsBase + 2 * finding + 1)
                guard place < (row + 1) * gateCount else { break }
                guard set > 0, set < findingSets.count else { throw damaged }
                scanner.record(findingSets[set], field: names[gateColumns[place - row * gateCount]])
                found = true
                finding += 1
            }
            if found && gateMode == .suppress {
                gateSuppressed += 1
                kept[row] = false
                continue
            }
            rowsOut += 1
        }
        while finding < findingCount && word(findingsBase + 2 * finding) < rows * gateCount { finding += 1 }
        guard finding == findingCount else { throw damaged }
        // Each dialect's text loses the dropped rows, moved down in place run by run.
        var lengths: [Int] = []
        for (number, text) in texts.enumerated() {
            var written = 0, start = 0, runStart = 0
            // Moves the kept run `runStart ..< start` down to `written`.
            func keepRun() {
                guard start > runStart, let base = text.baseAddress else { return }
                if written != runStart { (base + written).copyMemory(from: base + runStart, byteCount: start - runStart) }
                written += start - runStart
            }
            for row in 0 ..< rows {
                let end = word(endsBase + number * rows + row)
                guard end >= start, end <= text.count else { throw damaged }
                if !kept[row] {
                    keepRun()
                    runStart = end
                }
                start = end
            }
            keepRun()
            guard start == text.count else { throw damaged }
            lengths.append(written)
        }
        return lengths
    }

    /// The PII gate on one value: detectors run once per distinct value of a column (memoized by bytes); the id of
    /// the set of detectors that found something, counted in pass 2 for the rows published.
    private mutating func findingSet(_ bytes: UnsafeRawBufferPointer, number: Int, scanner: PIIScanner) -> UInt32 {
        if let known = gateMemo[number].find(bytes) { return gateSets[number][known] }
        let found = scanner.detectNames(String(decoding: bytes, as: UTF8.self))
        var set: UInt32 = 0
        if !found.isEmpty {
            if let known = findingSetIds[found] {
                set = known
            } else {
                set = UInt32(findingSets.count)
                findingSets.append(found)
                findingSetIds[found] = set
            }
        }
        if gateMemo[number].count >= LaneState.gateMemoLimit {
            gateMemo[number].removeAll()
            gateSets[number].removeAll(keepingCapacity: true)
        }
        _ = gateMemo[number].insert(bytes)
        gateSets[number].append(set)
        return set
    }

    // MARK: - Chains

    /// The chain's current value (empty for null) and whether it is null.
    @inline(__always)
    private func value(_ chain: Int, base: ChunkText, fields: UnsafePointer<Int32>,
                       arena: UnsafeRawBufferPointer, row: RowScratch) -> (UnsafeRawBufferPointer, Bool) {
        let start: Int, end: Int
        if kinds[chain] == .verbatim {
            start = Int(fields[sources[chain] &* 2])
            end = Int(fields[sources[chain] &* 2 &+ 1])
            return (base.field(start, end), end < start)
        }
        start = row.spans[chain &* 2]
        end = row.spans[chain &* 2 &+ 1]
        guard end > start else { return (UnsafeRawBufferPointer(start: nil, count: 0), end < start) }
        return (UnsafeRawBufferPointer(start: arena.baseAddress.unsafelyUnwrapped + start, count: end &- start), false)
    }

    /// The canonical id of quasi-identifier `column`'s value, one part of the class key.
    ///
    /// The row engine's class key is each value's UTF-8 length, a colon and the value, compared as a Swift string
    /// (canonical equivalence): two values are in one class when their byte lengths are equal and their NFC forms
    /// are. The canonical table is keyed by exactly that: the length (four bytes), then the NFC form.
    @inline(__always)
    private mutating func classPart(_ bytes: UnsafeRawBufferPointer, column: Int, row: RowScratch) -> UInt32 {
        let length = bytes.count
        guard length <= ValueCache.maximumLength else { return dictionaryPart(bytes, column: column, row: row) }
        let words = ValueCache.words(bytes)
        let entry = valueCache.entry(column: column, words: words, length: length)
        if ValueCache.holds(entry, words, length: length) {
            row.rawIds[column] = Int(entry.pointee.raw)
            return entry.pointee.canonical
        }
        let canonical = dictionaryPart(bytes, column: column, row: row)
        entry.pointee = ValueCache.Entry(words: words, length: UInt32(truncatingIfNeeded: length),
                                         raw: UInt32(truncatingIfNeeded: row.rawIds[column]), canonical: canonical)
        return canonical
    }

    /// ``classPart(_:column:row:)`` through the column's dictionaries.
    private mutating func dictionaryPart(_ bytes: UnsafeRawBufferPointer, column: Int, row: RowScratch) -> UInt32 {
        let (raw, inserted) = columnRaw[column].insert(bytes)
        row.rawIds[column] = raw
        if inserted {
            columnMayHold[column].append(PIIScanner.mayHoldPersonalData(raw: bytes))
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
        return columnMap[column][raw]
    }

    /// Sizes the dense class index (``dense``) by the values the first chunk showed: each column's digit holds
    /// its count and an eighth more. Columns whose product exceeds ``denseLimit`` leave the index off (every row
    /// takes the class table; set up again after the next chunk, counts only grow).
    private mutating func prepareDenseClasses() {
        let radix = columnCanonical.map { $0.count + $0.count / 8 + 1 }
        var total = 1
        for digit in radix {
            total = total.multipliedReportingOverflow(by: digit).partialValue
            guard total <= LaneState.denseLimit else { return }
        }
        denseReady = true
        denseRadix = radix
        dense = [UInt32](repeating: 0, count: total)
        // Classes already in the table (the first chunk's) are entered, so that their rows find them.
        classParts.withUnsafeBufferPointer { parts in
            let columns = radix.count
            for id in 0 ..< classSizes.count {
                var index = 0, fits = true
                for column in 0 ..< columns {
                    let part = parts[id * columns + column]
                    if Int(part) >= radix[column] { fits = false; break }
                    index = index * radix[column] + Int(part)
                }
                if fits { dense[index] = UInt32(truncatingIfNeeded: id &+ 1) }
            }
        }
    }

    /// Counts a row in its class, found through the dense index at `index` (-1: the key does not fit it) or the
    /// class table; the class id.
    @inline(__always)
    private mutating func countClass(index: Int, key: UnsafePointer<UInt32>) -> UInt32 {
        let key = UnsafeBufferPointer(start: key, count: classChains.count)
        if index >= 0 {
            let entry = dense[index]
            if entry != 0 {
                classSizes[Int(truncatingIfNeeded: entry &- 1)] += 1
                return entry &- 1
            }
            // A key that fits the index without an entry is a new class: the first chunk's classes were entered
            // when the index was set up, and every later one that fits is entered here (never in the table).
            let id = UInt32(truncatingIfNeeded: classSizes.count)
            classSizes.append(1)
            classParts.append(contentsOf: key)
            dense[index] = id &+ 1
            return id
        }
        let (row, inserted) = classes.insert(UnsafeRawBufferPointer(key))
        if inserted {
            let id = UInt32(truncatingIfNeeded: classSizes.count)
            tableClass.append(id)
            classSizes.append(1)
            classParts.append(contentsOf: key)
            return id
        }
        let id = tableClass[row]
        classSizes[Int(truncatingIfNeeded: id)] += 1
        return id
    }

    mutating func releasePassOne() {
        dense = []
        denseRadix = []
        memos = memos.map {
            PseudonymMemo(table: ByteTable(capacity: 1), short: ShortKeyMemo(capacity: 1), mac: $0.mac, length: $0.length)
        }
        gateMemo = gateMemo.map { _ in ByteTable(capacity: 1) }
        gateCache.removeAll()
        gateSets = gateSets.map { _ in [] }
        columnRaw = columnRaw.map { _ in ByteTable(capacity: 1) }
        valueCache.removeAll()
        columnMap = columnMap.map { _ in [] }
        columnMayHold = columnMayHold.map { _ in [] }
        arena = RawBytes(capacity: 0)
        scratch = (RawBytes(capacity: 0), RawBytes(capacity: 0))
    }

    mutating func releaseClasses() {
        classes = ByteTable(capacity: 1)
        tableClass = []
        classSizes = []
        classParts = []
        columnRaw = columnRaw.map { _ in ByteTable(capacity: 1) }
        valueCache.removeAll()
        columnCanonical = columnCanonical.map { _ in ByteTable(capacity: 1) }
    }

    /// The quasi-identifiers, and per one the canonical values this lane has seen (length, then the NFC form).
    var classColumns: Int { columnCanonical.count }
    var canonicalValues: [ByteTable] { columnCanonical }

    /// Runs the chain's steps on the row's field, appending the result to `arena`, and counts a changed value.
    @inline(__always)
    private mutating func evaluate(_ chain: Int, base: ChunkText, fields: UnsafePointer<Int32>,
                                   record: Int, arena: inout RawBytes, row: RowScratch) throws {
        let source = sources[chain]
        let start = Int(fields[source &* 2]), end = Int(fields[source &* 2 &+ 1])
        guard end >= start else {
            row.spans[chain &* 2] = 0
            row.spans[chain &* 2 &+ 1] = -1
            return
        }
        let input = UnsafeRawBufferPointer(start: base.at(start), count: end - start)
        let from = arena.count
        var changed = true
        var null = false
        // Whether a byte kernel wrote the value: then it holds digits, hex, `-+.:TZ` alone.
        var kernel = false
        defer { row.kernelMade[chain] = kernel }
        switch kinds[chain] {
        case .verbatim:
            return
        case .pseudonymize:
            pseudonymize(parameters[chain], input, into: &arena)
            kernel = true
        case .band:
            if let number = TextKernels.integer(input) {
                LaneState.appendBand(number, width: parameters[chain], to: &arena)
                changed = !arena.suffix(from: from, equals: input)
                kernel = true
            } else {
                changed = try apply(steps[chain][0], to: input, into: &arena, null: &null, record: record)
            }
        case .decimals:
            let scale = parameters[chain]
            kernel = arena.write(bound: input.count + scale + 3, { TextKernels.fixed(input, scale: scale, into: $0) })
            if !kernel {
                changed = try apply(steps[chain][0], to: input, into: &arena, null: &null, record: record)
            }
        case .truncate:
            let unit = units[parameters[chain]]
            kernel = arena.write(bound: 25, { TextKernels.truncatedDateTime(input, unit: unit, into: $0) })
            if !kernel {
                changed = try apply(steps[chain][0], to: input, into: &arena, null: &null, record: record)
            }
        case .redact:
            // Text with too few digits for any detector is kept as it is, decided without the step: reading the
            // step out of the plan's arrays copies it (retaining its rule), and most notes are such text.
            if LaneState.tooFewDigits(input, minimum: parameters[chain], normalize: normalizes[chain]) {
                arena.append(input)
                changed = false
            } else {
                changed = try apply(steps[chain][0], to: input, into: &arena, null: &null, record: record)
            }
        case .single:
            changed = try apply(steps[chain][0], to: input, into: &arena, null: &null, record: record)
        case .several:
            var (value, next) = scratch
            defer { scratch = (value, next) }
            value.removeAll()
            value.append(input)
            for step in steps[chain] where !null {
                next.removeAll()
                let stepChanged = try apply(step, to: value.bytes, into: &next, null: &null, record: record)
                if stepChanged { row.changed[step.rule] += 1 }
                swap(&value, &next)
            }
            arena.append(value.bytes)
            changed = false  // counted per step
        }
        if changed { row.changed[ruleOf[chain]] += 1 }
        row.spans[chain &* 2] = from
        row.spans[chain &* 2 &+ 1] = null ? from - 1 : arena.count
    }

    /// One step on a non-null text value, appending the result to `output`; returns whether the value changed (as
    /// the row engine counts it). The general path: the byte kernels' fallbacks and the steps without a kernel.
    private mutating func apply(_ step: ColumnarPlan.Step, to input: UnsafeRawBufferPointer,
                                into output: inout RawBytes, null: inout Bool, record: Int) throws -> Bool {
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
                    return !output.suffix(from: start, equals: input)
                }
            case .decimals(let scale):
                if output.write(bound: input.count + scale + 3, { TextKernels.fixed(input, scale: scale, into: $0) }) {
                    return true
                }
            case .truncate(let unit):
                if output.write(bound: 25, { TextKernels.truncatedDateTime(input, unit: unit, into: $0) }) { return true }
            case .lookup:
                break
            }
            let original = Value.string(String(decoding: input, as: UTF8.self))
            guard let value = GeneralizeRule.generalize(original, method) else {
                throw ColumnarLane.RecordError(field: step.field, record: record, expected: method.expected)
            }
            if value.isNull { null = true }
            output.append(Array(value.text.utf8))
            return value != original
        case .redact(let rule, let minimumDigits):
            if minimumDigits > 0 && LaneState.tooFewDigits(input, minimum: minimumDigits, normalize: rule.normalize) {
                output.append(input)
                return false
            }
            guard let redactor = redactors[step.id] else { throw GovernanceError("rule 'redact' could not be bound") }
            var record: Record = [.string(String(decoding: input, as: UTF8.self))]
            let before = redactor.stats.valuesChanged
            _ = try redactor.apply(&record)
            output.append(Array(record[0].text.utf8))
            return redactor.stats.valuesChanged != before
        }
    }

    /// Whether `input` holds fewer than `minimum` digits (a full-width form's lead byte counted as one) and, unless it
    /// is ASCII, is not normalized first: then no detector of a redaction with that minimum can match in it.
    @inline(__always)
    static func tooFewDigits(_ input: UnsafeRawBufferPointer, minimum: Int, normalize: Bool) -> Bool {
        var digits = 0, ascii = true
        for byte in input {
            if byte &- 48 < 10 {
                digits += 1
            } else if byte >= 0x80 {
                ascii = false
                if byte == 0xEF { digits += 1 }  // the lead byte of full-width forms (０–９)
            }
        }
        return digits < minimum && (ascii || !normalize)
    }

    /// Every byte the byte kernels write (pseudonyms in hex, bands, fixed decimals, truncated timestamps).
    static let kernelAlphabet = Set(Array("0123456789abcdefABCDEF-+.:TZ".utf8))

    /// `generalize: { band: width }` of an integer: `low-high`, as the row engine writes it.
    @inline(__always)
    static func appendBand(_ number: Int64, width: Int, to output: inout RawBytes) {
        let wide = Int64(width)
        let low = GeneralizeRule.floorDivide(number, wide) * wide
        output.reserve(41)
        output.advance(TextKernels.integerDigits(low, into: output.end))
        output.append(UInt8(ascii: "-"))
        output.advance(TextKernels.integerDigits(low + wide - 1, into: output.end))
    }

    private mutating func pseudonymize(_ id: Int, _ input: UnsafeRawBufferPointer, into output: inout RawBytes) {
        let length = memos[id].length
        if input.count <= ShortKeyMemo.maximumKey && length <= 16 {
            output.reserve(16)
            if let known = memos[id].short.find(input) {
                LaneState.writeHex(known, to: output.end)
                output.advance(length)
                return
            }
            var prefix: UInt64 = 0
            memos[id].mac.authenticate(input) { bytes in prefix = bytes.loadUnaligned(as: UInt64.self) }
            LaneState.writeHex(prefix, to: output.end)
            output.advance(length)
            memos[id].short.insert(input, value: prefix)
            return
        }
        if let known = memos[id].table.find(input) {
            output.reserve(length)
            memos[id].digests.withUnsafeBytes { digests in
                ByteScan.copy(from: digests.baseAddress! + known &* length, to: output.end, count: length)
            }
            output.advance(length)
            return
        }
        let start = output.count
        output.reserve(length + 1)
        let target = output.end
        memos[id].mac.authenticate(input) { bytes in
            var target = target
            for byte in bytes.prefix((length + 1) / 2) {
                target[0] = LaneState.hexDigits[Int(byte >> 4)]
                target[1] = LaneState.hexDigits[Int(byte & 0x0F)]
                target += 2
            }
        }
        output.advance(length)
        if memos[id].table.count >= PseudonymMemo.limit {
            memos[id].table.removeAll()
            memos[id].digests.removeAll(keepingCapacity: true)
        }
        _ = memos[id].table.insert(input)
        memos[id].digests.append(contentsOf: UnsafeRawBufferPointer(start: output.base + start, count: length))
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// The eight bytes of `word` (memory order) as 16 lowercase hex digits at `target`.
    @inline(__always)
    static func writeHex(_ word: UInt64, to target: UnsafeMutablePointer<UInt8>) {
        // Each byte's two nibbles spread into two bytes (high nibble first), then 0–9 → '0'–'9', 10–15 → 'a'–'f'.
        @inline(__always) func spread(_ half: UInt64) -> UInt64 {
            var x = half & 0xFFFF_FFFF                        // bytes b0 b1 b2 b3
            x = (x | x << 16) & 0x0000_FFFF_0000_FFFF
            x = (x | x << 8) & 0x00FF_00FF_00FF_00FF          // b0 0 b1 0 b2 0 b3 0
            let high = (x >> 4) & 0x000F_000F_000F_000F
            let low = (x & 0x000F_000F_000F_000F) << 8
            let nibbles = high | low                          // hi(b0) lo(b0) hi(b1) lo(b1) …
            let letters = ((nibbles &+ 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101
            return nibbles &+ 0x3030_3030_3030_3030 &+ letters &* 0x27
        }
        let raw = UnsafeMutableRawPointer(target)
        raw.storeBytes(of: spread(word.littleEndian).littleEndian, as: UInt64.self)
        raw.storeBytes(of: spread(word.littleEndian >> 32).littleEndian, toByteOffset: 8, as: UInt64.self)
    }
}

/// What ``LaneState/govern(_:dialects:scanner:)`` writes for every row, in memory it allocates for one chunk and
/// frees after: plain loads and stores. The same writes to stored arrays (the chains' value spans, the rules' counts,
/// the class key, the dialects' texts) cost a uniqueness check, and some a retain and release, each time: moving
/// them here cut a 1M-row run's user time by 9 %.
struct RowScratch {
    /// Per chain: where its current value lies in the lane's arena (`start`, `end`; end < start for null).
    let spans: UnsafeMutablePointer<Int>
    /// Per rule: values changed in this chunk (added to the rule's statistics after it).
    let changed: UnsafeMutablePointer<Int>
    /// The current row's class key: its quasi-identifiers' canonical ids; and their raw ids.
    let classKey: UnsafeMutablePointer<UInt32>
    let rawIds: UnsafeMutablePointer<Int>
    /// The classes not yet counted, by row modulo 4: the dense index (-1 when the key does not fit it) and the key.
    let pendingIndex: UnsafeMutablePointer<Int>
    let pendingKeys: UnsafeMutablePointer<UInt32>
    /// Per dialect: the formatted rows, and its line terminator as one word (``ColumnarLane/Dialect/terminatorWord``).
    let texts: UnsafeMutablePointer<RawBytes>
    /// Per chain: whether a byte kernel made its current value (``LaneState/kernelAlphabet`` only).
    let kernelMade: UnsafeMutablePointer<Bool>
    let terminatorWords: [UInt64?]
    let terminatorCounts: [Int]
    private let chains: Int, rules: Int, classColumns: Int, dialects: Int

    init(chains: Int, rules: Int, classColumns: Int, dialects: [ColumnarLane.Dialect], capacity: Int) {
        self.chains = chains
        self.rules = rules
        self.classColumns = classColumns
        self.dialects = dialects.count
        spans = .allocate(capacity: 2 * chains)
        spans.initialize(repeating: -1, count: 2 * chains)
        changed = .allocate(capacity: rules)
        changed.initialize(repeating: 0, count: rules)
        classKey = .allocate(capacity: classColumns)
        classKey.initialize(repeating: 0, count: classColumns)
        rawIds = .allocate(capacity: classColumns)
        rawIds.initialize(repeating: 0, count: classColumns)
        pendingIndex = .allocate(capacity: 4)
        pendingIndex.initialize(repeating: -1, count: 4)
        pendingKeys = .allocate(capacity: 4 * classColumns)
        pendingKeys.initialize(repeating: 0, count: 4 * classColumns)
        kernelMade = .allocate(capacity: chains)
        kernelMade.initialize(repeating: false, count: chains)
        texts = .allocate(capacity: dialects.count)
        for number in dialects.indices { (texts + number).initialize(to: RawBytes(capacity: capacity)) }
        terminatorWords = dialects.map(\.terminatorWord)
        terminatorCounts = dialects.map(\.lineTerminator.count)
    }

    func free() {
        spans.deinitialize(count: 2 * chains).deallocate()
        changed.deinitialize(count: rules).deallocate()
        classKey.deinitialize(count: classColumns).deallocate()
        rawIds.deinitialize(count: classColumns).deallocate()
        pendingIndex.deinitialize(count: 4).deallocate()
        pendingKeys.deinitialize(count: 4 * classColumns).deallocate()
        kernelMade.deinitialize(count: chains).deallocate()
        texts.deinitialize(count: dialects).deallocate()
    }
}
