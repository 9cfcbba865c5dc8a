// The teacher's tensor roles and their Hugging Face state-dict names, as data (llama.cpp's
// MODEL_TENSOR / torchtune's _FROM_HF pattern). This is one of the few files where HF names appear.
import Foundation
import Models

/// One tensor of a Mistral/Llama teacher.
public enum TeacherTensor: Hashable, Sendable, CustomStringConvertible {
    case embedTokens
    case finalNorm
    case lmHead
    case inputNorm(Int)
    case qProj(Int)
    case kProj(Int)
    case vProj(Int)
    case oProj(Int)
    case postAttentionNorm(Int)
    case gateProj(Int)
    case upProj(Int)
    case downProj(Int)

    /// The role without its layer index, and the name template ("{}" stands for the layer).
    public enum Kind: String, CaseIterable, Sendable {
        case embedTokens, finalNorm, lmHead, inputNorm, qProj, kProj, vProj, oProj, postAttentionNorm, gateProj, upProj, downProj
    }

    /// Kind → HF name template.
    public static let huggingFaceTemplates: [(Kind, String)] = [
        (.embedTokens, "model.embed_tokens.weight"),
        (.finalNorm, "model.norm.weight"),
        (.lmHead, "lm_head.weight"),
        (.inputNorm, "model.layers.{}.input_layernorm.weight"),
        (.qProj, "model.layers.{}.self_attn.q_proj.weight"),
        (.kProj, "model.layers.{}.self_attn.k_proj.weight"),
        (.vProj, "model.layers.{}.self_attn.v_proj.weight"),
        (.oProj, "model.layers.{}.self_attn.o_proj.weight"),
        (.postAttentionNorm, "model.layers.{}.post_attention_layernorm.weight"),
        (.gateProj, "model.layers.{}.mlp.gate_proj.weight"),
        (.upProj, "model.layers.{}.mlp.up_proj.weight"),
        (.downProj, "model.layers.{}.mlp.down_proj.weight"),
    ]

    /// HF names that may appear in a checkpoint and are dropped on purpose, with the reason.
    public static let droppedOnPurpose: [(String, String)] = [
        ("model.layers.{}.self_attn.rotary_emb.inv_freq", "RoPE frequencies are recomputed from rope_theta"),
    ]

    public init(kind: Kind, layer: Int?) {
        switch kind {
        case .embedTokens: self = .embedTokens
        case .finalNorm: self = .finalNorm
        case .lmHead: self = .lmHead
        case .inputNorm: self = .inputNorm(layer!)
        case .qProj: self = .qProj(layer!)
        case .kProj: self = .kProj(layer!)
        case .vProj: self = .vProj(layer!)
        case .oProj: self = .oProj(layer!)
        case .postAttentionNorm: self = .postAttentionNorm(layer!)
        case .gateProj: self = .gateProj(layer!)
        case .upProj: self = .upProj(layer!)
        case .downProj: self = .downProj(layer!)
        }
    }

    public var kind: Kind {
        switch self {
        case .embedTokens: .embedTokens
        case .finalNorm: .finalNorm
        case .lmHead: .lmHead
        case .inputNorm: .inputNorm
        case .qProj: .qProj
        case .kProj: .kProj
        case .vProj: .vProj
        case .oProj: .oProj
        case .postAttentionNorm: .postAttentionNorm
        case .gateProj: .gateProj
        case .upProj: .upProj
        case .downProj: .downProj
        }
    }

    public var layer: Int? {
        switch self {
        case .embedTokens, .finalNorm, .lmHead: nil
        case let .inputNorm(l), let .qProj(l), let .kProj(l), let .vProj(l), let .oProj(l), let .postAttentionNorm(l),
            let .gateProj(l), let .upProj(l), let .downProj(l): l
        }
    }

    /// The Hugging Face state-dict name.
    public var huggingFaceName: String { name(in: TeacherTensor.huggingFaceTemplates) }

    /// The name under a table of templates ("{}" replaced by the layer); every kind must be in the table.
    public func name(in templates: [(Kind, String)]) -> String {
        let t = templates.first { $0.0 == kind }!.1
        return layer.map { t.fillingLayer($0) } ?? t
    }

    public var description: String { huggingFaceName }

    /// Parses an HF name; nil when it is not a teacher tensor name.
    public init?(huggingFaceName name: String) {
        guard let (kind, layer) = matchTemplate(name, TeacherTensor.huggingFaceTemplates) else { return nil }
        self.init(kind: kind, layer: layer)
    }

    /// The shape the config implies ([out, in] for linear weights).
    public func expectedShape(_ c: TransformerConfig) -> [Int] {
        switch kind {
        case .embedTokens, .lmHead: [c.vocabSize, c.hiddenSize]
        case .finalNorm, .inputNorm, .postAttentionNorm: [c.hiddenSize]
        case .qProj: [c.numHeads * c.headDim, c.hiddenSize]
        case .kProj, .vProj: [c.numKVHeads * c.headDim, c.hiddenSize]
        case .oProj: [c.hiddenSize, c.numHeads * c.headDim]
        case .gateProj, .upProj: [c.intermediateSize, c.hiddenSize]
        case .downProj: [c.hiddenSize, c.intermediateSize]
        }
    }

    /// Every tensor the architecture needs, in a stable order (the head only when untied).
    public static func all(for c: TransformerConfig) -> [TeacherTensor] {
        var out: [TeacherTensor] = [.embedTokens]
        for l in 0..<c.numLayers {
            out += [.inputNorm(l), .qProj(l), .kProj(l), .vProj(l), .oProj(l), .postAttentionNorm(l), .gateProj(l), .upProj(l), .downProj(l)]
        }
        out.append(.finalNorm)
        if !c.tieWordEmbeddings { out.append(.lmHead) }
        return out
    }
}

/// True when `name` is listed as dropped on purpose; returns the reason.
func droppedReason(_ name: String, _ table: [(String, String)]) -> String? {
    for (t, reason) in table where matchTemplate(name, [((), t)]) != nil { return reason }
    return nil
}
