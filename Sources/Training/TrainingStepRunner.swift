// Single optimizer steps of a DistillationTrainer's stage outside `run` — no metrics, evaluation or
// checkpoints — so `t2r bench` can time exactly what one training step computes: the stage's
// micro-step (teacher forward, student forward, loss, backward), gradient clipping and the AdamW update
// (plus the LoRA adapters' update and merge under the lora preset).
import TensorCore

/// Runs one optimizer step at a time on windows the caller chooses; buffers persist across steps.
public final class TrainingStepRunner {
    public let trainer: DistillationTrainer
    let stepper: StageStepper

    public init(trainer: DistillationTrainer) {
        self.trainer = trainer
        stepper = StageStepper(trainer: trainer)
    }

    /// One optimizer step on one micro-batch: `windows` are `data.batchSize` windows of `data.seqLen + 1`
    /// tokens. Returns the loss and the gradient norm before clipping.
    @discardableResult
    public func step(windows: [[Int]], lr: Double) throws -> (loss: Double, gradNorm: Double) {
        let cfg = trainer.config.data
        precondition(windows.count == cfg.batchSize && windows.allSatisfy { $0.count == cfg.seqLen + 1 },
                     "TrainingStepRunner.step: expected \(cfg.batchSize) windows of \(cfg.seqLen + 1) tokens")
        trainer.student.params.zeroGrads()
        trainer.lora?.params.zeroGrads()
        let (loss, _) = try stepper.microStep(windows: windows)
        trainer.lora?.backward()
        let norm = trainer.clipAndNorm()
        trainer.optimizer.update(lr: lr)
        if let lora = trainer.lora {
            lora.optimizer.update(lr: lr)
            lora.merge()
        }
        return (loss, norm)
    }
}
