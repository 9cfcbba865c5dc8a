// The GSA student's tensors under fla's state-dict names (gsa.md §13.1, §14), as data, and the
// teacher → student map of the conversion (gsa.md §15.1). One of the few files with HF/fla names.
import Foundation
import Models

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
        return layer.map { t.replacingOccurrences(of: "{}", with: String($0)) } ?? t
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
        for l in 0..<c.numLayers {
            out += [.attnNorm(l), .qProj(l), .kProj(l), .vProj(l), .oProj(l)]
            if !c.isSoftmaxLayer(l) {
                out.append(.fProj(l))
                if c.elementwiseAffine { out.append(.gNorm(l)) }
            }
            out += [.mlpNorm(l), .gateProj(l), .upProj(l), .downProj(l)]
        }
        out.append(.finalNorm)
        if !c.tieWordEmbeddings { out.append(.lmHead) }
        return out
    }

    /// The teacher tensor a student tensor is copied from (nil for tensors the conversion creates).
    public var teacherSource: TeacherTensor? {
        switch self {
        case .embeddings: .embedTokens
        case .finalNorm: .finalNorm
        case .lmHead: .lmHead
        case let .attnNorm(l): .inputNorm(l)
        case let .qProj(l): .qProj(l)
        case let .kProj(l): .kProj(l)
        case let .vProj(l): .vProj(l)
        case let .oProj(l): .oProj(l)
        case .fProj, .gNorm: nil
        case let .mlpNorm(l): .postAttentionNorm(l)
        case let .gateProj(l): .gateProj(l)
        case let .upProj(l): .upProj(l)
        case let .downProj(l): .downProj(l)
        }
    }
}

/// Checks a student's tensors against its config: missing, unexpected, mis-shaped (all listed, sorted).
public func checkStudentTensors(_ infos: [(name: String, shape: [Int])], config: GSAConfig) -> [TensorSetProblem] {
    var problems: [TensorSetProblem] = []
    let expected = StudentTensor.all(for: config)
    let present = Dictionary(infos.map { ($0.name, $0.shape) }, uniquingKeysWith: { a, _ in a })
    for t in expected {
        guard let shape = present[t.flaName] else {
            problems.append(TensorSetProblem(kind: .missing, tensor: t.flaName, detail: ""))
            continue
        }
        if shape != t.expectedShape(config) {
            problems.append(TensorSetProblem(kind: .wrongShape, tensor: t.flaName, detail: "shape \(shape) but the config implies \(t.expectedShape(config))"))
        }
    }
    let names = Set(expected.map(\.flaName))
    for i in infos where !names.contains(i.name) {
        if config.tieWordEmbeddings && i.name == StudentTensor.lmHead.flaName { continue }
        problems.append(TensorSetProblem(kind: .unexpected, tensor: i.name, detail: "not part of this GSA model"))
    }
    return problems.sorted { ($0.kind.rawValue, $0.tensor) < ($1.kind.rawValue, $1.tensor) }
}
