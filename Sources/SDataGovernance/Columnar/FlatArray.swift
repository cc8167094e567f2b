/// An immutable array of plain values that the lanes' row loops index without a bounds check: the plan's
/// per-chain tables (sources, kinds, parameters, output columns). Every index into one comes from the plan that built
/// it (a chain, an output column, a quasi-identifier), so it is in range by construction; an `Array` checked each of
/// a row's ~60 lookups (`perf`, 1M rows: an eighth of the row loop's own time).
struct FlatArray<Element: BitwiseCopyable>: RandomAccessCollection, @unchecked Sendable {
    private final class Owner {
        let buffer: UnsafeMutableBufferPointer<Element>
        init(_ elements: [Element]) {
            buffer = .allocate(capacity: elements.count)
            _ = buffer.initialize(from: elements)
        }
        deinit { buffer.deallocate() }
    }

    private let owner: Owner
    private let elements: UnsafeBufferPointer<Element>

    init(_ elements: [Element]) {
        owner = Owner(elements)
        self.elements = UnsafeBufferPointer(owner.buffer)
    }

    var startIndex: Int { 0 }
    var endIndex: Int { elements.count }

    subscript(position: Int) -> Element {
        @inline(__always) get { elements[position] }
    }
}

extension FlatArray: ExpressibleByArrayLiteral {
    init(arrayLiteral elements: Element...) { self.init(elements) }
}
