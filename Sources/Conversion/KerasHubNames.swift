// The variables of a KerasHub Mistral/Llama backbone in a Keras 3 `.weights.h5`, and the HF tensor each
// one holds, as data: dataset path template, Keras shape, and the layout transform to HF [out, in].
// Paths follow Keras' saving walk (keras/src/saving/saving_lib.py `_walk_saveable`: a Functional model's
// `layers` first, each group named by the layer's snake_case class name made unique with _1, _2, …;
// sub-layers by attribute name; variables as `<path>/vars/0`, `1`, … in trainable order) over keras-hub's
// MistralBackbone / LlamaBackbone (keras_hub/src/models/{mistral,llama}/*_backbone.py, *_decoder.py,
// *_attention.py); the inverse of keras-hub's utils/transformers/convert_mistral.py and convert_llama3.py.
// Checked on ../shared/checkpoints/tiny-mistral-keras (keras 3.15.1, keras-hub 0.32.0); the Llama group
// names (llama_transformer_decoder, llama_layer_norm) are derived by the same rules.
import Foundation
import Models
import TensorCore

/// A dimension of a KerasHub variable's shape.
public enum KerasHubDim: String, Sendable {
    case vocab = "V", hidden = "H", intermediate = "I", heads = "nH", kvHeads = "nKV", headDim = "D"

    /// Its size under `c`.
    public func size(_ c: TransformerConfig) -> Int {
        switch self {
        case .vocab: c.vocabSize
        case .hidden: c.hiddenSize
        case .intermediate: c.intermediateSize
        case .heads: c.numHeads
        case .kvHeads: c.numKVHeads
        case .headDim: c.headDim
        }
    }
}

/// One KerasHub backbone variable and the teacher tensor it holds.
public struct KerasHubVariable: Sendable {
    /// The teacher tensor role.
    public let kind: TeacherTensor.Kind
    /// Dataset path template: `{block}` is the decoder group of the tensor's layer, `{norm}` the final
    /// norm's group.
    public let pathTemplate: String
    /// The variable's shape in the file.
    public let shape: [KerasHubDim]
    /// From the variable to HF layout.
    public let transform: LayoutTransform

    /// The full table; every teacher tensor kind has exactly one entry.
    public static let table: [KerasHubVariable] = [
        .init(kind: .embedTokens, pathTemplate: "layers/reversible_embedding/vars/0", shape: [.vocab, .hidden], transform: .identity),
        .init(kind: .lmHead, pathTemplate: "layers/reversible_embedding/vars/1", shape: [.hidden, .vocab], transform: .transposed(rowAxes: 1)),
        .init(kind: .finalNorm, pathTemplate: "{norm}/vars/0", shape: [.hidden], transform: .identity),
        .init(kind: .inputNorm, pathTemplate: "{block}/_self_attention_layernorm/vars/0", shape: [.hidden], transform: .identity),
        .init(kind: .qProj, pathTemplate: "{block}/_self_attention_layer/_query_dense/vars/0", shape: [.hidden, .heads, .headDim],
              transform: .transposed(rowAxes: 1)),
        .init(kind: .kProj, pathTemplate: "{block}/_self_attention_layer/_key_dense/vars/0", shape: [.hidden, .kvHeads, .headDim],
              transform: .transposed(rowAxes: 1)),
        .init(kind: .vProj, pathTemplate: "{block}/_self_attention_layer/_value_dense/vars/0", shape: [.hidden, .kvHeads, .headDim],
              transform: .transposed(rowAxes: 1)),
        .init(kind: .oProj, pathTemplate: "{block}/_self_attention_layer/_output_dense/vars/0", shape: [.heads, .headDim, .hidden],
              transform: .transposed(rowAxes: 2)),
        .init(kind: .postAttentionNorm, pathTemplate: "{block}/_feedforward_layernorm/vars/0", shape: [.hidden], transform: .identity),
        .init(kind: .gateProj, pathTemplate: "{block}/_feedforward_gate_dense/vars/0", shape: [.hidden, .intermediate],
              transform: .transposed(rowAxes: 1)),
        .init(kind: .upProj, pathTemplate: "{block}/_feedforward_intermediate_dense/vars/0", shape: [.hidden, .intermediate],
              transform: .transposed(rowAxes: 1)),
        .init(kind: .downProj, pathTemplate: "{block}/_feedforward_output_dense/vars/0", shape: [.intermediate, .hidden],
              transform: .transposed(rowAxes: 1)),
    ]

    /// The table entry of `kind`.
    public static func entry(_ kind: TeacherTensor.Kind) -> KerasHubVariable {
        guard let v = table.first(where: { $0.kind == kind }) else { preconditionFailure("KerasHubVariable.table lacks \(kind)") }
        return v
    }

    /// The dataset path of teacher tensor `t` in a file of architecture `arch`.
    public static func datasetPath(_ t: TeacherTensor, _ arch: KerasHubArchitecture) -> String {
        var p = entry(t.kind).pathTemplate.replacingOccurrences(of: "{norm}", with: arch.normGroup)
        if let l = t.layer { p = p.replacingOccurrences(of: "{block}", with: arch.decoderGroup(l)) }
        return p
    }

    /// The shape as symbols and sizes, e.g. "[H, nH, D] = [256, 8, 32]".
    public func describeShape(_ c: TransformerConfig) -> String {
        "[\(shape.map(\.rawValue).joined(separator: ", "))] = \(Shape.describe(shape.map { $0.size(c) }))"
    }
}

/// The KerasHub backbones t2r reads, with their class names and layer group names.
public struct KerasHubArchitecture: Sendable, Equatable {
    /// `registered_name` in config.json.
    public let registeredName: String
    /// The teacher family it holds.
    public let family: TransformerConfig.Family
    /// Group of decoder block 0 (block i > 0 adds `_i`).
    public let decoderGroupPrefix: String
    /// Group of the final RMSNorm.
    public let normGroup: String

    /// keras-hub MistralBackbone.
    public static let mistral = KerasHubArchitecture(
        registeredName: "keras_hub>MistralBackbone", family: .mistral,
        decoderGroupPrefix: "layers/mistral_transformer_decoder", normGroup: "layers/mistral_layer_normalization")
    /// keras-hub LlamaBackbone.
    public static let llama = KerasHubArchitecture(
        registeredName: "keras_hub>LlamaBackbone", family: .llama,
        decoderGroupPrefix: "layers/llama_transformer_decoder", normGroup: "layers/llama_layer_norm")
    /// Every supported backbone.
    public static let all: [KerasHubArchitecture] = [.mistral, .llama]

    /// The architecture whose files hold a teacher of `family`.
    public static func of(_ family: TransformerConfig.Family) -> KerasHubArchitecture {
        family == .mistral ? .mistral : .llama
    }

    /// The group of decoder block `layer`.
    public func decoderGroup(_ layer: Int) -> String { layer == 0 ? decoderGroupPrefix : "\(decoderGroupPrefix)_\(layer)" }

    /// The decoder block a dataset path lies in (the inverse of `decoderGroup`), or nil.
    public func decoderBlock(ofPath path: String) -> Int? {
        let group = path.split(separator: "/", omittingEmptySubsequences: false).prefix(2).joined(separator: "/")
        if group == decoderGroupPrefix { return 0 }
        guard group.hasPrefix(decoderGroupPrefix + "_") else { return nil }
        let digits = group.dropFirst(decoderGroupPrefix.count + 1)
        guard let l = Int(digits), l > 0, String(l) == digits else { return nil }
        return l
    }
}
