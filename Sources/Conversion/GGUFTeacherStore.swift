// A GGUF file seen as a Hugging Face checkpoint: tensors under HF state-dict names, in HF layout.
// Names go through the GGUF ↔ HF table (GGUFTensorNames.swift); q/k rows are put back into the HF
// rotate-half order (RopePermutation.swift) as they are loaded, so the model code uses the same RoPE
// for every source. Tensors the table does not know keep their GGUF name, so the tensor-set check
// reports them as unexpected.
import CheckpointIO
import Models
import TensorCore

/// A GGUF file as a TensorStore with HF names and HF layout (see the file header).
public final class GGUFTeacherStore: TensorStore, @unchecked Sendable {
    /// The underlying file (raw GGUF names; its metadata holds the tokenizer arrays).
    public let gguf: GGUFFile
    /// The architecture read from the `llama.*` metadata.
    public let config: TransformerConfig
    /// (HF name, GGUF tensor), in file order.
    private let entries: [(name: String, tensor: GGUFTensor)]
    private let index: [String: Int]

    /// Wraps `gguf`, reading the config from its metadata (`TransformerConfig(gguf:)`).
    public init(_ gguf: GGUFFile) throws {
        self.gguf = gguf
        config = try TransformerConfig(gguf: gguf)
        entries = gguf.tensors.map { t in (TeacherTensor(ggufName: t.name)?.huggingFaceName ?? t.name, t) }
        var index: [String: Int] = [:]
        for (i, e) in entries.enumerated() { index[e.name] = i }
        self.index = index
    }

    public var path: String { gguf.path }
    public var metadata: [String: String] { gguf.metadata }

    public var tensorInfos: [TensorInfo] { entries.map { GGUFTeacherStore.info($0.name, $0.tensor) } }

    public func info(_ name: String) -> TensorInfo? { index[name].map { GGUFTeacherStore.info(name, entries[$0].tensor) } }

    private static func info(_ name: String, _ t: GGUFTensor) -> TensorInfo {
        TensorInfo(name: name, storageType: StorageType(t.type.name), shape: t.shape, byteCount: t.byteCount)
    }

    /// The GGUF name behind HF name `name`.
    public func ggufName(_ name: String) -> String? { index[name].map { entries[$0].tensor.name } }

    /// Loads tensor `name` (HF name) dequantised to Float32 in HF layout.
    public func loadFloat32(_ name: String) throws -> Tensor {
        guard let i = index[name] else { throw GGUFError.tensorNotFound(file: path, tensor: name) }
        let t = entries[i].tensor
        let w = try gguf.loadFloat32(t.name)
        let heads: Int
        switch TeacherTensor(ggufName: t.name)?.kind {
        case .qProj: heads = config.numHeads
        case .kProj: heads = config.numKVHeads
        default: return w
        }
        let want = [heads * config.headDim, config.hiddenSize]
        guard w.shape == want else {
            throw GGUFError.invalidTensorInfo(
                file: path, tensor: t.name,
                detail: "shape \(w.shape) but the llama.* metadata implies \(want) (\(heads) heads of \(config.headDim))")
        }
        return undoLlamaCppRoPEPermutation(w, heads: heads)
    }
}
