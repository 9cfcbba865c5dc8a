// The teacher → student map of the conversion (gsa.md §15.1) and the student tensor-set check.
import Foundation
import Models

extension StudentTensor {
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
