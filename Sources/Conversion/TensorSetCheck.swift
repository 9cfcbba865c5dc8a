// Checks a checkpoint's tensors against what its configuration implies: missing, unexpected and
// mis-shaped tensors, every offender listed (llama.cpp's "Missing tensors: …"): missing ones, then
// unexpected ones, then mis-shaped ones; missing and mis-shaped in model order (layer 2 before layer 10),
// unexpected ones by name.
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
    var missing: [TensorSetProblem] = [], wrongShape: [TensorSetProblem] = [], unexpected: [TensorSetProblem] = []
    let expected = TeacherTensor.all(for: config)
    let present = Dictionary(infos.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    var expectedNames = Set<String>(minimumCapacity: expected.count)
    for t in expected {
        let name = t.huggingFaceName
        expectedNames.insert(name)
        guard let info = present[name] else {
            missing.append(TensorSetProblem(kind: .missing, tensor: name, detail: ""))
            continue
        }
        let want = t.expectedShape(config)
        if info.shape != want {
            wrongShape.append(TensorSetProblem(kind: .wrongShape, tensor: name, detail: "shape \(info.shape) but the config implies \(want)"))
        }
    }
    for info in infos where !expectedNames.contains(info.name) {
        if droppedReason(info.name, TeacherTensor.droppedOnPurpose) != nil { continue }
        if config.tieWordEmbeddings && info.name == TeacherTensor.lmHead.huggingFaceName { continue }
        var detail = "not part of a \(config.family.rawValue) model with this config"
        if let t = TeacherTensor(huggingFaceName: info.name), let l = t.layer, l >= config.numLayers {
            detail = "layer \(l) but num_hidden_layers is \(config.numLayers)"
        }
        unexpected.append(TensorSetProblem(kind: .unexpected, tensor: info.name, detail: detail))
    }
    return missing + unexpected.sorted { $0.tensor < $1.tensor } + wrongShape
}
