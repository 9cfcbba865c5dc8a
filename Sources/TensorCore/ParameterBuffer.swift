// Parameters, gradients and optimizer moments, each in one flat Float buffer with named,
// shape-annotated views that come from one ordered table (llm.c's parameter layout with its three
// parallel lists fused into one). Frozen parameters have no gradient and no optimizer memory.
// Consecutive parameters are adjacent in memory, so a fused projection ([q; k; v; f] rows) is a
// single view spanning several entries.

public final class ParameterBuffer: @unchecked Sendable {
    public struct Entry: Sendable {
        public let name: String
        public let shape: [Int]
        public let trainable: Bool
        /// Offset in `values`.
        public let offset: Int
        /// Offset in the gradient/moment buffers (trainable entries only).
        public let gradOffset: Int?
        public var count: Int { Shape.elementCount(shape) ?? 0 }
    }

    public let entries: [Entry]
    public let values: TensorStorage
    /// Gradients of the trainable entries only.
    public let grads: TensorStorage
    public let parameterCount: Int
    public let trainableCount: Int
    private let index: [String: Int]

    /// Lays out `specs` (name, shape, trainable) in order.
    public init(_ specs: [(name: String, shape: [Int], trainable: Bool)]) {
        var e: [Entry] = []
        var off = 0, goff = 0
        for s in specs {
            let n = Shape.elementCount(s.shape)!
            e.append(Entry(name: s.name, shape: s.shape, trainable: s.trainable, offset: off, gradOffset: s.trainable ? goff : nil))
            off += n
            if s.trainable { goff += n }
        }
        entries = e
        parameterCount = off
        trainableCount = goff
        values = TensorStorage(capacity: off)
        grads = TensorStorage(capacity: goff)
        index = Dictionary(e.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    public func entry(_ name: String) -> Entry? { index[name].map { entries[$0] } }

    /// The value view of `name`.
    public func value(_ name: String) -> Tensor {
        guard let e = entry(name) else { preconditionFailure("ParameterBuffer: no parameter \(name)") }
        return Tensor(storage: values, offset: e.offset, shape: e.shape)
    }

    /// The gradient view of `name`, or nil when it is frozen.
    public func grad(_ name: String) -> Tensor? {
        guard let e = entry(name) else { preconditionFailure("ParameterBuffer: no parameter \(name)") }
        return e.gradOffset.map { Tensor(storage: grads, offset: $0, shape: e.shape) }
    }

    /// A view spanning consecutive entries `first...last` as one [Σ rows, cols] matrix (all must share
    /// the last dimension and be adjacent).
    public func fusedValue(_ names: [String]) -> Tensor {
        let es = names.map { entry($0)! }
        let cols = es[0].shape.last!
        var rows = 0
        for (i, e) in es.enumerated() {
            precondition(e.shape.count == 2 && e.shape[1] == cols, "fusedValue: \(e.name) \(e.shape) does not have \(cols) columns")
            if i > 0 { precondition(e.offset == es[i - 1].offset + es[i - 1].count, "fusedValue: \(e.name) is not adjacent") }
            rows += e.shape[0]
        }
        return Tensor(storage: values, offset: es[0].offset, shape: [rows, cols])
    }

    public func zeroGrads() { grads.base.update(repeating: 0, count: trainableCount) }

    /// ‖g‖₂ over all gradients (accumulated in Double).
    public func gradNorm() -> Double { gradSumOfSquares { _ in true }.squareRoot() }

    /// Σ g² over the trainable entries `include` accepts (accumulated in Double).
    public func gradSumOfSquares(where include: (Entry) -> Bool) -> Double {
        var s = 0.0
        for e in entries where e.trainable && include(e) {
            let g = grads.base + e.gradOffset!
            var i = 0
            while i < e.count {
                let n = min(65536, e.count - i)
                s += Double(vectorSumOfSquares(g + i, n))
                i += n
            }
        }
        return s
    }

    /// Multiplies the gradients of the entries `include` accepts by `factor`.
    public func scaleGrads(by factor: Float, where include: (Entry) -> Bool) {
        for e in entries where e.trainable && include(e) {
            let g = grads.base + e.gradOffset!
            for i in 0..<e.count { g[i] *= factor }
        }
    }

    /// True when every gradient is finite.
    public func gradsAreFinite() -> Bool {
        let g = grads.base
        for i in 0..<trainableCount where !g[i].isFinite { return false }
        return true
    }
}
