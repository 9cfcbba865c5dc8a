// One micro-batch of each stage: forward, loss, backward (gradients accumulate in the student's
// ParameterBuffer). Buffers are allocated once for the batch shape and reused every step.
import Models
import Ops
import TensorCore

final class StageStepper {
    let trainer: DistillationTrainer
    var gsaActs: GSAMixerActivations?
    /// The teacher's captured activations, refilled in place every micro-batch.
    var teacherActs = TeacherActivations()
    var gsaGrads: GSAMixerGradients?
    var studentActs: StudentTrainingActivations?
    // Stage-1 and stage-2 buffers, allocated on the first micro-batch.
    var y: Tensor?, dy: Tensor?, dHidden: Tensor?, sLogits: Tensor?, dLogits: Tensor?, dPart: Tensor?
    static let headBlock = 256

    init(trainer: DistillationTrainer) { self.trainer = trainer }

    /// The teacher's top-k targets of the current micro-batch (loss.top_k > 0): [N·k] each.
    var topIndices: [Int32] = [], topValues: [Float] = []

    /// Runs one micro-batch of windows (each seqLen + 1 tokens); returns the loss and its named components.
    /// Throws only for the teacher cache (a file that cannot be read or written).
    func microStep(windows: [[Int]]) throws -> (Double, [(String, Double)]) {
        switch trainer.config.stage {
        case .attentionTransfer: return attentionTransfer(windows)
        case .endToEnd: return try endToEnd(windows)
        }
    }

    /// Stage 1: for every GSA layer l, MSE(mixer_l(h_l), t_l) with h_l the teacher's attention input (after
    /// its input_layernorm) and t_l the teacher's attention output after o_proj; layers are independent.
    func attentionTransfer(_ windows: [[Int]]) -> (Double, [(String, Double)]) {
        let cfg = trainer.config, student = trainer.student, teacher = trainer.teacher
        let b = windows.count, t = cfg.data.seqLen, n = b * t, d = student.config.hiddenSize
        let inputs = windows.flatMap { $0.prefix(t) }
        _ = teacher.forward(tokens: inputs, batch: b, capture: [.attentionInputs, .attentionProjections], activations: &teacherActs)
        let acts = teacherActs
        let layers = gsaLayers
        prepareAttentionTransfer(batch: b, length: t)
        let (y, dy) = (self.y!, self.dy!)
        let accum = Double(cfg.schedule.gradAccumulation)
        var total = 0.0
        var perLayer: [(String, Double)] = []
        for l in layers {
            student.gsaMixerForward(l, h: acts.attentionInputs[l], y: y, gsaActs!)
            let target = acts.attentionProjections[l]
            let norm = cfg.loss.normalizeMSE ? max(Double(vectorSumOfSquares(target.pointer, target.count)) / Double(target.count), 1e-12) : 1
            // loss_l = w · mean((y − t)²) / norm / |layers|, averaged over accumulation steps
            let scale = cfg.loss.mse / (Double(n * d) * norm * Double(layers.count) * accum)
            let sq = squaredErrorForwardBackward(dy: dy, y: y, target: target, scale: Float(scale))
            total += sq / (Double(n * d) * norm * Double(layers.count))
            perLayer.append(("mse.layer\(l)", sq / (Double(n * d) * norm)))
            student.gsaMixerBackward(l, dy: dy, h: acts.attentionInputs[l], gsaActs!, dh: nil, scratch: gsaGrads)
        }
        // The per-layer figures (relative MSE of each GSA layer) go to metrics.jsonl for diagnostics.
        return (cfg.loss.mse * total, [("mse", total)] + perLayer)
    }

    /// The student's GSA layers (hybrid softmax layers are not distilled in stage 1).
    var gsaLayers: [Int] { (0..<trainer.student.config.numLayers).filter { !trainer.student.config.isSoftmaxLayer($0) } }

    /// Stage 1's buffers, made on first use.
    func prepareAttentionTransfer(batch b: Int, length t: Int) {
        guard gsaActs == nil else { return }
        let student = trainer.student, n = b * t, d = student.config.hiddenSize
        gsaActs = GSAMixerActivations(model: student, batch: b, length: t)
        gsaGrads = GSAMixerGradients(model: student, batch: b, length: t)
        y = Tensor(zeros: [n, d])
        dy = Tensor(zeros: [n, d])
    }

    /// Output-scale calibration before stage 1: the GSA output is RMS-normalised (g_norm) before o_proj, so
    /// the mixer output y is linear in g_norm's weight; s = ⟨y, t⟩ / ⟨y, y⟩ is the factor that minimises
    /// ‖s·y − t‖² against the teacher's attention output t on `windows`, and the weight is multiplied by it.
    /// Returns the layers and their factors (1 where y is zero or the student has no g_norm weight).
    func calibrateOutputScales(windows: [[Int]]) -> (layers: [Int], scales: [Double]) {
        let cfg = trainer.config, student = trainer.student, teacher = trainer.teacher
        let b = windows.count, t = cfg.data.seqLen
        let inputs = windows.flatMap { $0.prefix(t) }
        _ = teacher.forward(tokens: inputs, batch: b, capture: [.attentionInputs, .attentionProjections], activations: &teacherActs)
        prepareAttentionTransfer(batch: b, length: t)
        let y = self.y!
        var scales: [Double] = []
        for l in gsaLayers {
            guard student.config.elementwiseAffine else { scales.append(1); continue }
            student.gsaMixerForward(l, h: teacherActs.attentionInputs[l], y: y, gsaActs!)
            let target = teacherActs.attentionProjections[l]
            let yy = vectorSumOfSquares(y.pointer, y.count), yt = vectorDot(y.pointer, target.pointer, y.count)
            let s = yy > 0 && yy.isFinite && yt.isFinite ? Double(yt) / Double(yy) : 1
            let w = student.value(.gNorm(l))
            for i in 0..<w.count { w.pointer[i] *= Float(s) }
            scales.append(s)
        }
        return (gsaLayers, scales)
    }

    /// Stage 2 with loss.top_k: the teacher's k best logits of every position of `inputs`, from the cache or
    /// computed (teacher forward, LM head block by block, selection) and then cached.
    func teacherTopK(_ inputs: [Int], batch b: Int) throws {
        let k = trainer.config.loss.topK, n = inputs.count
        if topIndices.count != n * k {
            topIndices = [Int32](repeating: 0, count: n * k)
            topValues = [Float](repeating: 0, count: n * k)
        }
        if let cache = trainer.teacherCache, try cache.load(tokens: inputs, indices: &topIndices, values: &topValues) { return }
        let teacher = trainer.teacher
        let tHidden = teacher.forward(tokens: inputs, batch: b)
        var r = 0
        while r < n {
            let e = min(n, r + Self.headBlock)
            let tLogits = teacher.logits(tHidden.rows(r..<e))
            topIndices.withUnsafeMutableBufferPointer { ib in
                topValues.withUnsafeMutableBufferPointer { vb in
                    topKRows(tLogits, k: k, indices: ib.baseAddress! + r * k, values: vb.baseAddress! + r * k)
                }
            }
            r = e
        }
        try trainer.teacherCache?.store(tokens: inputs, indices: topIndices, values: topValues)
    }

    /// Stage 2: w_kl · KL(teacher ‖ student) + w_ce · CE(next token), means over the batch's positions. With
    /// loss.top_k the KL is taken against the teacher's top-k targets (cached when teacher_cache is set).
    func endToEnd(_ windows: [[Int]]) throws -> (Double, [(String, Double)]) {
        let cfg = trainer.config, student = trainer.student, teacher = trainer.teacher
        let b = windows.count, t = cfg.data.seqLen, n = b * t, v = student.config.vocabSize
        let inputs = windows.flatMap { $0.prefix(t) }
        let targets = windows.flatMap { $0.dropFirst().prefix(t) }
        if studentActs == nil {
            studentActs = StudentTrainingActivations(model: student, batch: b, length: t)
            dHidden = Tensor(zeros: [n, student.config.hiddenSize])
            sLogits = Tensor(zeros: [Self.headBlock, v])
            dLogits = Tensor(zeros: [Self.headBlock, v])
            dPart = Tensor(zeros: [Self.headBlock, v])
        }
        let topK = cfg.loss.kl > 0 ? cfg.loss.topK : 0
        if topK > 0 { try teacherTopK(inputs, batch: b) }
        let tHidden = cfg.loss.kl > 0 && topK == 0 ? teacher.forward(tokens: inputs, batch: b) : nil
        let sHidden = student.forwardTraining(tokens: inputs, studentActs!)
        let dHidden = self.dHidden!
        dHidden.zero()
        let accum = Double(cfg.schedule.gradAccumulation)
        var klSum = 0.0, ceSum = 0.0
        var r = 0
        while r < n {
            let e = min(n, r + Self.headBlock), rows = e - r
            let sLogits = self.sLogits!.rows(0..<rows), dLogits = self.dLogits!.rows(0..<rows), dPart = self.dPart!.rows(0..<rows)
            student.headForward(sLogits, hidden: sHidden.rows(r..<e))
            dLogits.zero()
            if topK > 0 {
                klSum += topIndices.withUnsafeBufferPointer { ib in
                    topValues.withUnsafeBufferPointer { vb in
                        topKDivergenceForwardBackward(dStudent: dPart, student: sLogits, k: topK, indices: ib.baseAddress! + r * topK,
                                                      values: vb.baseAddress! + r * topK, temperature: Float(cfg.loss.temperature),
                                                      scale: Float(cfg.loss.kl / (Double(n) * accum)))
                    }
                }
                addInPlaceOps(dLogits, dPart)
            } else if cfg.loss.kl > 0, let tHidden {
                let tLogits = teacher.logits(tHidden.rows(r..<e))
                klSum += klDivergenceForwardBackward(dStudent: dPart, student: sLogits, teacher: tLogits, temperature: Float(cfg.loss.temperature),
                                                     scale: Float(cfg.loss.kl / (Double(n) * accum)))
                addInPlaceOps(dLogits, dPart)
            }
            if cfg.loss.ce > 0 {
                ceSum += crossEntropyForwardBackward(dLogits: dPart, logits: sLogits, targets: Array(targets[r..<e]),
                                                     scale: Float(cfg.loss.ce / (Double(n) * accum)))
                addInPlaceOps(dLogits, dPart)
            } else {
                ceSum += crossEntropyForwardBackward(dLogits: nil, logits: sLogits, targets: Array(targets[r..<e]), scale: 0)
            }
            student.headBackward(dHidden: dHidden.rows(r..<e), dLogits: dLogits, hidden: sHidden.rows(r..<e))
            r = e
        }
        student.backward(studentActs!, dHidden: dHidden)
        let kl = klSum / Double(n), ce = ceSum / Double(n)
        return (cfg.loss.kl * kl + cfg.loss.ce * ce, [("kl", kl), ("ce", ce)])
    }
}

func addInPlaceOps(_ x: Tensor, _ y: Tensor) {
    let a = x.pointer, b = y.pointer
    parallelRanges(x.count) { r in for i in r { a[i] += b[i] } }
}
