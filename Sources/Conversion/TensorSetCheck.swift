// Checks a checkpoint's tensors against what its configuration implies: missing, unexpected and
// mis-shaped tensors, every offender listed and sorted (llama.cpp's "Missing tensors: …").
import CheckpointIO
import Models

/// One problem with a checkpoint's tensor set.
public struct TensorSetProblem: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable { case missing, unexpected, wrongShape }
    public let kind: Kind
    public let tensor: String
    public let detail: String
    public var description: String {
        switch kind {
        case .missing: "missing tensor `\(tensor)`\(detail.isEmpty ? "" : " (\(detail))")"
        case .unexpected: "unexpected tensor `\(tensor)`\(detail.isEmpty ? "" : ": \(detail)")"
        case .wrongShape: "tensor `\(tensor)`: \(detail)"
        }
    }
}

/// Compares HF-named teacher tensors with `config`. `lm_head.weight` in a tied checkpoint is allowed
/// (transformers ignores it).
public func checkTeacherTensors(_ infos: [TensorInfo], config: TransformerConfig) -> [TensorSetProblem] {
    var problems: [TensorSetProblem] = []
    let expected = TeacherTensor.all(for: config)
    let present = Dictionary(infos.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    for t in expected {
        guard let info = present[t.huggingFaceName] else {
            problems.append(TensorSetProblem(kind: .missing, tensor: t.huggingFaceName, detail: ""))
            continue
        }
        let want = t.expectedShape(config)
        if info.shape != want {
            problems.append(TensorSetProblem(kind: .wrongShape, tensor: t.huggingFaceName,
                                             detail: "shape \(info.shape) but the config implies \(want)"))
        }
    }
    let expectedNames = Set(expected.map(\.huggingFaceName))
    for info in infos where !expectedNames.contains(info.name) {
        if droppedReason(info.name, TeacherTensor.droppedOnPurpose) != nil { continue }
        if config.tieWordEmbeddings && info.name == TeacherTensor.lmHead.huggingFaceName { continue }
        var detail = "not part of a \(config.family.rawValue) model with this config"
        if let t = TeacherTensor(huggingFaceName: info.name), let l = t.layer, l >= config.numLayers {
            detail = "layer \(l) but num_hidden_layers is \(config.numLayers)"
        }
        problems.append(TensorSetProblem(kind: .unexpected, tensor: info.name, detail: detail))
    }
    return problems.sorted { ($0.kind.rawValue, $0.tensor) < ($1.kind.rawValue, $1.tensor) }
}
