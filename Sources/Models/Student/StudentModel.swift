// The GSA student (fla 0.6.0 GSAForCausalLM, gsa.md §10–§11): embeddings; per layer
//   x += mixer(attn_norm(x)),  x += down(silu(gate(mlp_norm(x))) ⊙ up(mlp_norm(x)))
// where the mixer is Gated Slot Attention (GSAMixer.swift) or, for the layers fla's hybrid `attn` spec
// lists, the teacher's softmax attention with RoPE (SoftmaxMixer.swift); final norm; LM head (tied or
// not). Parameters live in one ParameterBuffer in StudentTensor.all order (fused projections are
// contiguous); names are fla's state-dict names.
import Ops
import Synchronization
import TensorCore

public final class StudentModel: @unchecked Sendable {
    public let config: GSAConfig
    public let params: ParameterBuffer
    let rope: RoPETable?
    let gsaWorkspace = GSAWorkspace()
    /// Serialises inference forwards, which share `gsaWorkspace` (training calls run one at a time anyway).
    let forwardLock = Mutex<Void>(())
    let scratch = ScratchPool()
    /// Ones, standing in for g_norm when elementwise_affine is false.
    let unitNorm: Tensor

    /// The output norm of GSA layers always uses eps 1e-5: fla calls rms_norm_linear without an eps
    /// (gsa.md §10.2), so `norm_eps` does not reach it.
    public static let outputNormEps: Float = 1e-5

    /// A model with zeroed parameters; `trainable` picks the tensors that get gradients.
    public init(config: GSAConfig, trainable: (StudentTensor) -> Bool = { _ in false }) {
        self.config = config
        params = ParameterBuffer(StudentTensor.all(for: config).map { ($0.flaName, $0.expectedShape(config), trainable($0)) })
        rope = config.hybrid.map { RoPETable(headDim: config.softmaxHeadDim, theta: $0.ropeTheta) }
        unitNorm = Tensor(shape: [config.valueDim], repeating: 1)
    }

    public var vocabSize: Int { config.vocabSize }

    public func value(_ t: StudentTensor) -> Tensor { params.value(t.flaName) }
    public func grad(_ t: StudentTensor) -> Tensor? { params.grad(t.flaName) }

    var lmHead: Tensor { config.tieWordEmbeddings ? value(.embeddings) : value(.lmHead) }
    var lmHeadGrad: Tensor? { config.tieWordEmbeddings ? grad(.embeddings) : grad(.lmHead) }

    /// g_norm's weight (ones when the config has no affine weight).
    func gNormWeight(_ l: Int) -> Tensor { config.elementwiseAffine ? value(.gNorm(l)) : unitNorm }

    /// Column widths of the fused GSA projection [q | k | v | f].
    var gsaWidths: (q: Int, k: Int, v: Int, f: Int) {
        (config.keyDim, config.numKVHeads * config.headKDim, config.numKVHeads * config.headVDim, config.numKVHeads * config.numSlots)
    }

    /// Column widths of a softmax layer's fused [q | k | v].
    var softmaxWidths: (q: Int, kv: Int) {
        let h = config.hybrid!
        return (h.numHeads * config.softmaxHeadDim, h.numKVHeads * config.softmaxHeadDim)
    }

    /// The fused input projection of layer `l`: [q; k; v; f] for GSA layers, [q; k; v] for softmax ones.
    func fusedProjection(_ l: Int) -> Tensor {
        config.isSoftmaxLayer(l)
            ? params.fusedValue([StudentTensor.qProj(l), .kProj(l), .vProj(l)].map(\.flaName))
            : params.fusedValue([StudentTensor.qProj(l), .kProj(l), .vProj(l), .fProj(l)].map(\.flaName))
    }

    /// The fused [gate; up] projection of layer `l`.
    func gateUp(_ l: Int) -> Tensor { params.fusedValue([StudentTensor.gateProj(l), .upProj(l)].map(\.flaName)) }

    /// GSA core dimensions for B sequences of T tokens.
    func gsaShapes(batch: Int, length: Int) -> GSAShapes {
        GSAShapes(batch: batch, length: length, heads: config.numHeads, kvHeads: config.numKVHeads,
                  keyDim: config.headKDim, valueDim: config.headVDim, slots: config.numSlots)
    }

    var featureActivation: Activation { config.featureMap == .swish ? .silu : .relu }
}
