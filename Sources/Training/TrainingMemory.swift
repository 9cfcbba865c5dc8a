// An estimate of what a distillation run allocates on top of the loaded models: the AdamW moments, and
// the activations and backward buffers kept for one micro-batch of B sequences of T tokens (N = B·T),
// counted from the buffers StageStepper, StudentTrainingActivations, GSAMixerActivations/Gradients,
// GSAChunkCache and the teacher forward allocate. It is checked against the memory available
// (MemoryBudget) before the first step, so an impossible batch shape is refused with the estimate
// instead of ending in the kernel's OOM killer.
import Models
import TensorCore

/// Float counts of a distillation run's allocations, by part.
public struct TrainingMemoryEstimate: Sendable {
    /// AdamW first and second moments of the trainable parameters (and of LoRA adapters).
    public var optimizerFloats = 0
    /// Activations and backward scratch of one micro-batch.
    public var activationFloats = 0

    /// Total in bytes (float32).
    public var bytes: Int { MemoryBudget.floatBytes(optimizerFloats.addingReportingOverflow(activationFloats).partialValue) }

    /// Estimates `config`'s run with `student` (trainable parameters already chosen) and `teacher`.
    public init(config: TrainingConfig, teacher: TransformerConfig, student: StudentModel) {
        let checked = { (body: (ConfigLimits.Arithmetic) throws -> Int) -> Int in ConfigLimits.checked(body) ?? Int.max / 8 }
        let s = student.config
        let n = checked { try $0.product(config.data.batchSize, config.data.seqLen) }
        let d = s.hiddenSize, i = s.intermediateSize, v = s.vocabSize, layers = s.numLayers
        let gsaLayers = (0..<layers).filter { !s.isSoftmaxLayer($0) }.count
        let trainable = student.params.trainableCount
        let loraFloats = config.trainable.preset == .lora
            ? checked { try $0.product(4, layers, 2, config.trainable.loraRank, d + s.keyDim) } : 0
        optimizerFloats = checked { try $0.sum($0.product(2, trainable), $0.product(3, loraFloats)) }

        // One GSA layer's forward activations per token: [q|k|v|f] projections, q, k, v, f, g, o, silu(o),
        // its normed copy; plus the chunk states per sequence.
        let slotsPerToken = s.numKVHeads * s.numSlots
        let gsaPerToken = checked { try $0.sum($0.product(2, s.keyDim * 2 + d + slotsPerToken), $0.product(2, slotsPerToken), $0.product(5, d)) }
        let chunks = (config.data.seqLen + 63) / 64 + 1
        let gsaStates = checked {
            try $0.product(config.data.batchSize, s.numKVHeads, chunks, s.numSlots, s.headKDim + s.headVDim)
        }
        let gsaLayer = checked { try $0.sum($0.product(n, gsaPerToken), gsaStates) }
        // The teacher's forward: residual, norm, qkv, attention output, gate/up and activation per token,
        // plus the K/V of the sequence.
        let teacherPerToken = checked { try $0.sum($0.product(4, teacher.hiddenSize), $0.product(3, teacher.intermediateSize),
                                                   $0.product(3, teacher.numHeads * teacher.headDim)) }
        let teacherForward = checked { try $0.product(n, teacherPerToken) }

        switch config.stage {
        case .attentionTransfer:
            // The teacher's captured attention inputs and outputs of every layer, one GSA layer's
            // activations and gradients (reused layer after layer), the output and its gradient.
            activationFloats = checked {
                try $0.sum($0.product(2, layers, n, d), teacherForward, $0.product(2, gsaLayer), $0.product(2, n, d))
            }
        case .endToEnd:
            // Every student layer's activations (residuals, norms, MLP) and its GSA or softmax mixer, the
            // backward scratch, the teacher's forward, and three logits blocks of 256 rows.
            activationFloats = checked {
                let dense = try $0.product(layers, n, try $0.sum($0.product(5, d), $0.product(3, i)))
                let mixers = try $0.product(gsaLayers, gsaLayer)
                let softmax = try $0.product(layers - gsaLayers, n, $0.sum($0.product(6, d), $0.product(s.hybrid?.numHeads ?? 0, config.data.seqLen)))
                let backward = try $0.sum(gsaLayer, $0.product(n, $0.sum($0.product(3, d), $0.product(3, i))))
                return try $0.sum(dense, mixers, softmax, backward, teacherForward, $0.product(3, 256, v))
            }
        }
    }
}
