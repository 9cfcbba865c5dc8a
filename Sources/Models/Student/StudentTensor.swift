// The GSA student's tensors under fla's state-dict names (gsa.md §13.1, §14): the role table of the
// student's own architecture, used for parameter layout, checkpoints and conversion.
import Foundation

/// One tensor of an fla GSAForCausalLM.
public enum StudentTensor: Hashable, Sendable, CustomStringConvertible {
    case embeddings
    case finalNorm
    case lmHead
    case attnNorm(Int)
    case qProj(Int)
    case kProj(Int)
    case vProj(Int)
    case oProj(Int)
    /// GSA layers only.
    case fProj(Int)
    /// GSA layers only (absent when elementwise_affine is false).
    case gNorm(Int)
    case mlpNorm(Int)
    case gateProj(Int)
    case upProj(Int)
    case downProj(Int)

    public enum Kind: String, CaseIterable, Sendable {
        case embeddings, finalNorm, lmHead, attnNorm, qProj, kProj, vProj, oProj, fProj, gNorm, mlpNorm, gateProj, upProj, downProj
    }

    /// Kind → fla name template.
    public static let flaTemplates: [(Kind, String)] = [
        (.embeddings, "model.embeddings.weight"),
        (.finalNorm, "model.norm.weight"),
        (.lmHead, "lm_head.weight"),
        (.attnNorm, "model.layers.{}.attn_norm.weight"),
        (.qProj, "model.layers.{}.attn.q_proj.weight"),
        (.kProj, "model.layers.{}.attn.k_proj.weight"),
        (.vProj, "model.layers.{}.attn.v_proj.weight"),
        (.oProj, "model.layers.{}.attn.o_proj.weight"),
        (.fProj, "model.layers.{}.attn.f_proj.weight"),
        (.gNorm, "model.layers.{}.attn.g_norm.weight"),
        (.mlpNorm, "model.layers.{}.mlp_norm.weight"),
        (.gateProj, "model.layers.{}.mlp.gate_proj.weight"),
        (.upProj, "model.layers.{}.mlp.up_proj.weight"),
        (.downProj, "model.layers.{}.mlp.down_proj.weight"),
    ]

    public init(kind: Kind, layer: Int?) {
        switch kind {
        case .embeddings: self = .embeddings
        case .finalNorm: self = .finalNorm
        case .lmHead: self = .lmHead
        case .attnNorm: self = .attnNorm(layer!)
        case .qProj: self = .qProj(layer!)
        case .kProj: self = .kProj(layer!)
        case .vProj: self = .vProj(layer!)
        case .oProj: self = .oProj(layer!)
        case .fProj: self = .fProj(layer!)
        case .gNorm: self = .gNorm(layer!)
        case .mlpNorm: self = .mlpNorm(layer!)
        case .gateProj: self = .gateProj(layer!)
        case .upProj: self = .upProj(layer!)
        case .downProj: self = .downProj(layer!)
        }
    }

    public var kind: Kind {
        switch self {
        case .embeddings: .embeddings
        case .finalNorm: .finalNorm
        case .lmHead: .lmHead
        case .attnNorm: .attnNorm
        case .qProj: .qProj
        case .kProj: .kProj
        case .vProj: .vProj
        case .oProj: .oProj
        case .fProj: .fProj
        case .gNorm: .gNorm
        case .mlpNorm: .mlpNorm
        case .gateProj: .gateProj
        case .upProj: .upProj
        case .downProj: .downProj
        }
    }

    public var layer: Int? {
        switch self {
        case .embeddings, .finalNorm, .lmHead: nil
        case let .attnNorm(l), let .qProj(l), let .kProj(l), let .vProj(l), let .oProj(l), let .fProj(l), let .gNorm(l),
            let .mlpNorm(l), let .gateProj(l), let .upProj(l), let .downProj(l): l
        }
    }

    public var flaName: String {
        let t = StudentTensor.flaTemplates.first { $0.0 == kind }!.1
        return layer.map { t.fillingLayer($0) } ?? t
    }

    public var description: String { flaName }

    public init?(flaName name: String) {
        guard let (kind, layer) = matchTemplate(name, StudentTensor.flaTemplates) else { return nil }
        self.init(kind: kind, layer: layer)
    }

    /// The shape the config implies.
    public func expectedShape(_ c: GSAConfig) -> [Int] {
        let d = c.hiddenSize
        let softmax = layer.map { c.isSoftmaxLayer($0) } ?? false
        switch kind {
        case .embeddings, .lmHead: return [c.vocabSize, d]
        case .finalNorm, .attnNorm, .mlpNorm, .gNorm: return [d]
        case .qProj: return softmax ? [d, d] : [c.keyDim, d]
        case .kProj: return softmax ? [c.hybrid!.numKVHeads * c.softmaxHeadDim, d] : [c.keyDim / c.groupSize, d]
        case .vProj: return softmax ? [c.hybrid!.numKVHeads * c.softmaxHeadDim, d] : [c.valueDim / c.groupSize, d]
        case .oProj: return softmax ? [d, d] : [d, c.valueDim]
        case .fProj: return [c.numKVHeads * c.numSlots, d]
        case .gateProj, .upProj: return [c.intermediateSize, d]
        case .downProj: return [d, c.intermediateSize]
        }
    }

    /// Every tensor of the student, in a stable order.
    public static func all(for c: GSAConfig) -> [StudentTensor] {
        var out: [StudentTensor] = [.embeddings]
        // q, k, v (and f) are adjacent, as are gate and up, so a flat parameter buffer in this order
        // holds each fused projection as one contiguous matrix.
        for l in 0..<c.numLayers {
            out += [.attnNorm(l), .qProj(l), .kProj(l), .vProj(l)]
            if !c.isSoftmaxLayer(l) {
                out.append(.fProj(l))
                if c.elementwiseAffine { out.append(.gNorm(l)) }
            }
            out += [.oProj(l), .mlpNorm(l), .gateProj(l), .upProj(l), .downProj(l)]
        }
        out.append(.finalNorm)
        if !c.tieWordEmbeddings { out.append(.lmHead) }
        return out
    }
}

/// Matches `name` against templates with one "{}" integer placeholder; returns the kind and layer.
public func matchTemplate<K>(_ name: String, _ templates: [(K, String)]) -> (K, Int?)? {
    for (kind, t) in templates {
        if let r = t.range(of: "{}") {
            let pre = String(t[..<r.lowerBound]), post = String(t[r.upperBound...])
            guard name.hasPrefix(pre), name.hasSuffix(post), name.count > pre.count + post.count else { continue }
            let mid = name.dropFirst(pre.count).dropLast(post.count)
            guard mid.allSatisfy({ $0.isASCII }), let l = Int(mid), l >= 0, String(l) == mid else { continue }
            return (kind, l)
        } else if name == t {
            return (kind, nil)
        }
    }
    return nil
}
