// Layout transforms from a checkpoint's storage layout to HF layout, and the store that applies them:
// a view of another TensorStore under HF names. Keras kernels are stored [in, out] (EinsumDense
// q/k/v as [H, n, D], o as [n, D, H]); HF Linear weights are [out, in] (formats.md §3, §6.2).
import CheckpointIO
import TensorCore

/// How a stored tensor becomes an HF tensor.
public enum LayoutTransform: Sendable, Equatable {
    /// Stored in HF layout.
    case identity
    /// View the stored tensor as a matrix [∏ shape[..<rowAxes], ∏ shape[rowAxes...]] and transpose it:
    /// Dense kernels [in, out] and q/k/v [H, n, D] use rowAxes 1, o [n, D, H] uses rowAxes 2.
    case transposed(rowAxes: Int)

    /// The HF shape of a stored tensor of shape `stored`; nil when the transform does not apply
    /// (rank not above `rowAxes`).
    public func outputShape(_ stored: [Int]) -> [Int]? {
        switch self {
        case .identity: return stored
        case let .transposed(k):
            guard k >= 1, stored.count > k, let rows = Shape.elementCount(Array(stored[..<k])),
                  let cols = Shape.elementCount(Array(stored[k...])) else { return nil }
            return [cols, rows]
        }
    }

    /// Applies the transform to `x` (a fresh tensor for transposes, `x` itself for identity).
    public func apply(_ x: Tensor) -> Tensor {
        switch self {
        case .identity: return x
        case .transposed:
            guard let out = outputShape(x.shape) else { preconditionFailure("transposed: rank of \(Shape.describe(x.shape))") }
            let y = Tensor(uninitialized: out)
            transpose2D(x.pointer, rows: out[1], cols: out[0], into: y.pointer)
            return y
        }
    }
}

/// dst[c, r] = src[r, c] for a row-major src [rows, cols]; 32×32 tiles keep both sides in cache.
func transpose2D(_ src: UnsafePointer<Float>, rows: Int, cols: Int, into dst: UnsafeMutablePointer<Float>) {
    let tile = 32
    var r0 = 0
    while r0 < rows {
        let r1 = min(r0 + tile, rows)
        var c0 = 0
        while c0 < cols {
            let c1 = min(c0 + tile, cols)
            for r in r0..<r1 {
                let s = src + r * cols
                for c in c0..<c1 { dst[c * rows + r] = s[c] }
            }
            c0 = c1
        }
        r0 = r1
    }
}

/// Tensors of another store under new names, each converted to HF layout when loaded.
public final class MappedTensorStore: TensorStore, @unchecked Sendable {
    /// One exposed tensor: its name, the source tensor's name and the transform between them.
    public struct Mapping: Sendable, Equatable {
        /// The exposed (HF) name.
        public let name: String
        /// The tensor's name in the base store.
        public let source: String
        /// From the stored layout to HF layout.
        public let transform: LayoutTransform
        /// A mapping of `source` to `name` through `transform`.
        public init(name: String, source: String, transform: LayoutTransform) {
            self.name = name
            self.source = source
            self.transform = transform
        }
    }

    /// The store the tensors come from.
    public let base: TensorStore
    /// Every exposed tensor, in the order given.
    public let mappings: [Mapping]
    /// The exposed tensors: HF names and shapes, the source's storage type and bytes.
    public let tensorInfos: [TensorInfo]
    private let index: [String: Int]

    /// Exposes `mappings` of `base`. Every source must exist in `base` and fit its transform
    /// (callers check this and report offenders first; a violation here is a programming error).
    public init(base: TensorStore, mappings: [Mapping]) {
        self.base = base
        self.mappings = mappings
        tensorInfos = mappings.map { m in
            guard let src = base.info(m.source), let shape = m.transform.outputShape(src.shape) else {
                preconditionFailure("MappedTensorStore: `\(m.source)` is absent from \(base.path) or does not fit \(m.transform)")
            }
            return TensorInfo(name: m.name, storageType: src.storageType, shape: shape, byteCount: src.byteCount)
        }
        var idx: [String: Int] = [:]
        for (i, m) in mappings.enumerated() { idx[m.name] = i }
        index = idx
    }

    /// The base store's file.
    public var path: String { base.path }
    /// The base store's metadata.
    public var metadata: [String: String] { base.metadata }
    /// The base store's warnings.
    public var warnings: [String] { base.warnings }

    /// The description of exposed tensor `name`, or nil.
    public func info(_ name: String) -> TensorInfo? { index[name].map { tensorInfos[$0] } }

    /// The mapping behind exposed tensor `name`, or nil.
    public func mapping(_ name: String) -> Mapping? { index[name].map { mappings[$0] } }

    /// Loads the source tensor of `name` and converts it to HF layout.
    public func loadFloat32(_ name: String) throws -> Tensor {
        guard let m = mapping(name) else {
            throw CheckpointError.tensorSetMismatch(path: path, problems: [TensorSetProblem(kind: .missing, tensor: name, detail: "")])
        }
        return m.transform.apply(try base.loadFloat32(m.source))
    }
}
