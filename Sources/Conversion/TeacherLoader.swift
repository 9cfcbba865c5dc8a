// Builds a TeacherModel from any TeacherCheckpoint: every tensor is loaded as Float32 under its HF
// name, shape-checked against the config, and packed into the fused layout of TeacherWeights.
import CheckpointIO
import Models
import TensorCore

extension TeacherCheckpoint {
    /// Loads tensor `t` and checks its shape against the config.
    public func loadChecked(_ t: TeacherTensor) throws -> Tensor {
        let x = try load(t)
        let want = t.expectedShape(config)
        if x.shape != want {
            throw CheckpointError.tensorSetMismatch(path: path, problems: [
                TensorSetProblem(kind: .wrongShape, tensor: t.huggingFaceName, detail: "shape \(x.shape) but the config implies \(want)"),
            ])
        }
        return x
    }

    /// Loads all weights into a `TeacherModel`.
    public func loadModel() throws -> TeacherModel {
        let c = config
        try MemoryBudget.check(MemoryBudget.floatBytes(c.parameterCount),
                               for: "loading the teacher \(path) (\(c.parameterCount) parameters as float32)")
        let embed = try loadChecked(.embedTokens)
        var layers: [TeacherLayerWeights] = []
        for l in 0..<c.numLayers {
            let w = TeacherLayerWeights(zerosFor: c)
            w.inputNorm.assign(try loadChecked(.inputNorm(l)))
            w.q(c).assign(try loadChecked(.qProj(l)))
            w.k(c).assign(try loadChecked(.kProj(l)))
            w.v(c).assign(try loadChecked(.vProj(l)))
            w.o.assign(try loadChecked(.oProj(l)))
            w.postAttentionNorm.assign(try loadChecked(.postAttentionNorm(l)))
            w.gate(c).assign(try loadChecked(.gateProj(l)))
            w.up(c).assign(try loadChecked(.upProj(l)))
            w.down.assign(try loadChecked(.downProj(l)))
            layers.append(w)
        }
        let head = c.tieWordEmbeddings ? embed : try loadChecked(.lmHead)
        return TeacherModel(config: c, weights: TeacherWeights(embedTokens: embed, layers: layers,
                                                               finalNorm: try loadChecked(.finalNorm), lmHead: head))
    }
}
