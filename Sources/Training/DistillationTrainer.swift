// The distillation loop: stage 1 (attention transfer, layer by layer) or stage 2 (end-to-end KL + CE),
// AdamW with warmup + cosine, gradient accumulation and clipping, periodic held-out evaluation and
// checkpoints, exact resume, NaN/Inf guard. Reports through a typed event callback that may ask it to
// stop (it then writes a checkpoint first); it never prints.
import CheckpointIO
import Conversion
import Corpus
import Glibc
import Models
import Ops
import TensorCore

/// What the trainer reports.
public enum TrainingEvent: Sendable {
    case started(startStep: Int, totalSteps: Int, trainableParameters: Int, tokensPerStep: Int)
    case step(TrainingStepReport)
    case evaluation(step: Int, metrics: [(String, Double)])
    case checkpoint(step: Int, path: String)
    /// student.calibrate_output_scale: each GSA layer's g_norm weight was multiplied by `scales[i]` (layer
    /// `layers[i]`) before the first step.
    case calibrated(layers: [Int], scales: [Double])
    /// The loss diverged (or became NaN/Inf) at `fromStep`; the run went back to the checkpoint of `toStep`
    /// and continues with the learning rate scaled by `learningRateScale` (run.on_divergence = "rollback").
    case rollback(fromStep: Int, toStep: Int, reason: String, learningRateScale: Double)
    case finished(path: String)
}

/// One optimizer step's numbers.
public struct TrainingStepReport: Sendable {
    public let step: Int  // 1-based, after the update
    public let totalSteps: Int
    public let loss: Double
    public let components: [(String, Double)]
    public let learningRate: Double
    public let gradNorm: Double
    public let tokensSeen: Int
    public let tokensPerSecond: Double
    public let elapsedSeconds: Double
    public var etaSeconds: Double {
        step > 0 ? elapsedSeconds / Double(step) * Double(totalSteps - step) : .infinity
    }
}

/// The callback's answer.
public enum TrainingControl: Sendable { case proceed, stop }

/// Summary of a finished (or interrupted) run.
public struct TrainingSummary: Sendable {
    public let finalDirectory: String?
    public let lastCheckpoint: String?
    public let steps: Int
    public let interrupted: Bool
    public let losses: [Double]
}

public final class DistillationTrainer: @unchecked Sendable {
    public let config: TrainingConfig
    public let teacher: TeacherModel
    public let student: StudentModel
    public let optimizer: AdamW
    /// LoRA adapters when the trainable preset is "lora".
    public let lora: LoRAAdapters?
    let train: [Int]
    let valid: [Int]
    /// The resolved recipe as stored beside checkpoints.
    let recipeJSON: JSONValue
    /// Directory whose tokenizer files are copied into final/.
    let tokenizerSource: String?
    /// The teacher's cached top-k targets (`teacher_cache`), or nil.
    public let teacherCache: TeacherTopKCache?

    public init(config: TrainingConfig, teacher: TeacherModel, student: StudentModel, train: [Int], valid: [Int],
                recipeJSON: JSONValue, tokenizerSource: String?) throws {
        let t = teacher.config, s = student.config
        guard t.vocabSize == s.vocabSize else { throw TrainingError.incompatibleModels(detail: "vocab \(t.vocabSize) vs \(s.vocabSize)") }
        guard t.hiddenSize == s.hiddenSize, t.numLayers == s.numLayers else {
            throw TrainingError.incompatibleModels(detail: "teacher \(t.numLayers)×\(t.hiddenSize) vs student \(s.numLayers)×\(s.hiddenSize)")
        }
        let need = config.data.batchSize * (config.data.seqLen + 1)
        guard train.count >= need else { throw TrainingError.notEnoughData(path: "data.train", tokens: train.count, needed: need) }
        // Refuse a run that cannot fit before allocating the optimizer and activations.
        let estimate = TrainingMemoryEstimate(config: config, teacher: t, student: student)
        try MemoryBudget.check(estimate.bytes, for: "training with \(config.data.batchSize)×\(config.data.seqLen) tokens per micro-batch "
            + "(optimizer moments \(MemoryBudget.format(MemoryBudget.floatBytes(estimate.optimizerFloats))), activations "
            + "\(MemoryBudget.format(MemoryBudget.floatBytes(estimate.activationFloats))))")
        self.config = config
        self.teacher = teacher
        self.student = student
        self.train = train
        self.valid = valid
        self.recipeJSON = recipeJSON
        self.tokenizerSource = tokenizerSource
        if config.stage == .endToEnd && config.loss.kl > 0 && config.loss.topK > t.vocabSize {
            throw TrainingError.incompatibleSetting(path: config.teacher, key: "loss.top_k",
                                                    detail: "loss.top_k = \(config.loss.topK) exceeds the vocabulary size \(t.vocabSize) of this teacher")
        }
        if let dir = config.teacherCache, config.stage == .endToEnd, config.loss.kl > 0, config.loss.topK > 0 {
            teacherCache = try TeacherTopKCache(directory: dir, teacherPath: config.teacher, teacher: teacher, k: config.loss.topK)
        } else {
            teacherCache = nil
        }
        var oc = AdamWConfig()
        oc.beta1 = config.optimizer.beta1
        oc.beta2 = config.optimizer.beta2
        oc.eps = config.optimizer.eps
        oc.weightDecay = config.optimizer.weightDecay
        if config.trainable.preset == .lora {
            let names = Set(StudentTensor.all(for: student.config).filter(LoRAAdapters.isTarget).map(\.flaName))
            optimizer = AdamW(params: student.params, config: oc) { !names.contains($0.name) }
            lora = LoRAAdapters(model: student, rank: config.trainable.loraRank, alpha: config.trainable.loraAlpha,
                                seed: config.run.seed, optimizer: oc)
        } else {
            optimizer = AdamW(params: student.params, config: oc)
            lora = nil
        }
    }

    /// Clips the gradients that are optimised (the adapters' instead of the merged weights' under LoRA) and
    /// returns their global norm before clipping.
    func clipAndNorm() -> Double {
        let names = Set(lora?.targets.map(\.tensor.flaName) ?? [])
        let own: (ParameterBuffer.Entry) -> Bool = { !names.contains($0.name) }
        let sq = student.params.gradSumOfSquares(where: own) + (lora?.params.gradSumOfSquares { _ in true } ?? 0)
        let norm = sq.squareRoot()
        let maxNorm = config.optimizer.gradClip
        if maxNorm > 0 {
            let factor = maxNorm / (norm + 1e-6)
            if factor < 1 {
                student.params.scaleGrads(by: Float(factor), where: own)
                lora?.params.scaleGrads(by: Float(factor)) { _ in true }
            }
        }
        return norm
    }

    var schedule: LearningRateSchedule {
        LearningRateSchedule(peak: config.optimizer.lr, warmupSteps: config.schedule.warmupSteps, totalSteps: config.schedule.steps,
                             minRatio: config.schedule.minLRRatio)
    }

    /// Runs (or resumes) the stage. `events` is called on the training thread.
    public func run(resume: Bool, events: (TrainingEvent) -> TrainingControl) throws -> TrainingSummary {
        let runDir = config.run.output
        let directory = try RunDirectory(runDir)
        defer { directory.unlock() }  // locked until this function returns
        var state = TrainerState()
        // Windows hold T+1 tokens: T inputs and, for CE, their next tokens.
        let window = config.data.seqLen + 1
        var sampler = WindowSampler(tokenCount: train.count, length: window, seed: config.run.seed)
        var lastCheckpoint: String?
        /// Restores the newest complete checkpoint (model, optimizer, sampler, state) and cuts metrics.jsonl
        /// back to what that checkpoint had seen.
        func restoreNewest(rollingBack: Bool = false) throws {
            guard let (_, dir) = try TrainingCheckpoint.completeCheckpoints(runDir: runDir).last else {
                throw TrainingError.nothingToResume(runDir: runDir)
            }
            let (s, savedRecipe) = try TrainingCheckpoint.load(dir, model: student, optimizer: optimizer, lora: lora)
            try checkResumable(saved: savedRecipe, path: dir)
            try checkDataPosition(s, path: dir, window: window)
            state = s
            sampler = WindowSampler(tokenCount: train.count, length: window, seed: config.run.seed, epoch: s.epoch, cursor: s.cursor)
            if let n = s.metricsBytes { try directory.truncateMetrics(to: n, keepingRollbacks: rollingBack) }
            lastCheckpoint = dir
        }
        if resume {
            try restoreNewest()
        } else {
            // A fresh run starts a fresh metrics log.
            FileSystem.remove(directory.metricsPath)
        }
        try writeFileAtomically(FileSystem.join(runDir, "recipe.json"), text: recipeJSON.serialized(indent: 2) + "\n")
        let metrics = try MetricsLog(path: directory.metricsPath)
        func checkpoint() throws -> String {
            state.metricsBytes = directory.metricsLength()
            state.trainTokens = train.count
            let dir = try TrainingCheckpoint.save(runDir: runDir, model: student, optimizer: optimizer, lora: lora, state: state,
                                                  recipe: recipeJSON, keepLast: config.run.keepLast)
            lastCheckpoint = dir
            return dir
        }
        /// Output writes other than checkpoints fail with the step and the checkpoint to resume from.
        func output<R>(_ body: () throws -> R) throws -> R {
            do { return try body() } catch let e as IOFailure {
                throw TrainingError.outputWriteFailed(step: state.step, reason: e.description, lastCheckpoint: lastCheckpoint)
            }
        }
        let total = config.schedule.steps
        if events(.started(startStep: state.step, totalSteps: total, trainableParameters: student.params.trainableCount,
                           tokensPerStep: config.tokensPerStep)) == .stop {
            return TrainingSummary(finalDirectory: nil, lastCheckpoint: lastCheckpoint, steps: state.step, interrupted: true, losses: [])
        }
        let stepper = StageStepper(trainer: self)
        if !resume && config.student.calibrateOutputScale && config.stage == .attentionTransfer {
            // On the first batch the run will train on (a copy of the sampler: the data order is unchanged).
            var probe = sampler
            let starts = probe.next(config.data.batchSize)
            let (layers, scales) = stepper.calibrateOutputScales(windows: starts.map { Array(train[$0..<($0 + window)]) })
            try output {
                try metrics.append(.object([("step", .int(0)), ("calibration", .object(zip(layers, scales).map {
                    ("g_norm_scale.layer\($0.0)", .double($0.1)) }))]))
            }
            _ = events(.calibrated(layers: layers, scales: scales))
        }
        let rollbackEnabled = config.run.onDivergence == .rollback
        // A rollback needs a checkpoint to return to, also when the first steps already diverge.
        if rollbackEnabled && lastCheckpoint == nil && state.step < total { _ = try checkpoint() }
        var losses: [(step: Int, loss: Double)] = []
        let t0 = monotonicSeconds() - state.elapsedSeconds
        let tokensAtStart = state.tokensSeen, timeAtStart = monotonicSeconds()
        /// Rolls back after a divergence when the policy allows it; returns false when the run must stop.
        func rollBack(from step: Int, reason: String) throws -> Bool {
            guard rollbackEnabled, state.rollbacks < config.run.maxRollbacks, lastCheckpoint != nil else { return false }
            let rollbacks = state.rollbacks + 1, scale = state.learningRateScale * config.run.rollbackLRFactor
            try restoreNewest(rollingBack: true)
            state.rollbacks = rollbacks
            state.learningRateScale = scale
            losses.removeAll { $0.step > state.step }
            try output {
                try metrics.append(.object([("step", .int(state.step)), ("rollback", .object([
                    ("from_step", .int(step)), ("reason", .string(reason)), ("rollbacks", .int(rollbacks)),
                    ("learning_rate_scale", .double(scale))]))]))
            }
            _ = events(.rollback(fromStep: step, toStep: state.step, reason: reason, learningRateScale: scale))
            return true
        }
        while state.step < total {
            let lr = schedule.rate(at: state.step) * state.learningRateScale
            student.params.zeroGrads()
            lora?.params.zeroGrads()
            var loss = 0.0
            var parts: [(String, Double)] = []
            for _ in 0..<config.schedule.gradAccumulation {
                let starts = sampler.next(config.data.batchSize)
                let (l, p) = try stepper.microStep(windows: starts.map { Array(train[$0..<($0 + window)]) })
                loss += l / Double(config.schedule.gradAccumulation)
                parts = mergeComponents(parts, p, weight: 1 / Double(config.schedule.gradAccumulation))
            }
            guard loss.isFinite else {
                if try rollBack(from: state.step + 1, reason: "the loss is not finite") { continue }
                throw TrainingError.nonFinite(step: state.step + 1, what: "the loss", lastCheckpoint: lastCheckpoint)
            }
            lora?.backward()
            guard student.params.gradsAreFinite() && (lora?.params.gradsAreFinite() ?? true) else {
                if try rollBack(from: state.step + 1, reason: "a gradient is not finite") { continue }
                throw TrainingError.nonFinite(step: state.step + 1, what: "a gradient", lastCheckpoint: lastCheckpoint)
            }
            // Divergence guard (opt-in): the loss runs away from its best value after warmup.
            if config.run.divergenceFactor > 0 && state.step + 1 > config.schedule.warmupSteps, let best = state.minLoss,
               loss > config.run.divergenceFactor * best {
                if try rollBack(from: state.step + 1, reason: "the loss \(loss) exceeds \(config.run.divergenceFactor) × its best \(best)") {
                    continue
                }
                throw TrainingError.diverged(step: state.step + 1, loss: loss, reference: config.run.divergenceFactor * best,
                                             lastCheckpoint: lastCheckpoint)
            }
            let gradNorm = clipAndNorm()
            optimizer.update(lr: lr)
            if let lora {
                lora.optimizer.update(lr: lr)
                lora.merge()
            }
            state.step += 1
            state.epoch = sampler.epoch
            state.cursor = sampler.cursor
            state.tokensSeen += config.tokensPerStep
            state.elapsedSeconds = monotonicSeconds() - t0
            state.minLoss = min(state.minLoss ?? .infinity, loss)
            losses.append((state.step, loss))
            let tps = Double(state.tokensSeen - tokensAtStart) / max(monotonicSeconds() - timeAtStart, 1e-9)
            let report = TrainingStepReport(step: state.step, totalSteps: total, loss: loss, components: parts, learningRate: lr,
                                            gradNorm: gradNorm, tokensSeen: state.tokensSeen, tokensPerSecond: tps,
                                            elapsedSeconds: state.elapsedSeconds)
            try output {
                try metrics.append(.object([("step", .int(state.step)), ("loss", .double(loss))] + parts.map { ($0.0, .double($0.1)) }
                    + [("lr", .double(lr)), ("grad_norm", .double(gradNorm)), ("tokens", .int(state.tokensSeen)),
                       ("tokens_per_second", .double(tps)), ("elapsed_seconds", .double(state.elapsedSeconds))]))
            }
            var control = events(.step(report))
            let evalNow = config.eval.every > 0 && state.step % config.eval.every == 0 && state.step < total
            if evalNow {
                let m = evaluate()
                try output { try metrics.append(.object([("step", .int(state.step)), ("eval", .object(m.map { ($0.0, .double($0.1)) }))])) }
                if events(.evaluation(step: state.step, metrics: m)) == .stop { control = .stop }
            }
            let checkpointNow = (config.run.checkpointEvery > 0 && state.step % config.run.checkpointEvery == 0) || control == .stop
            if checkpointNow && state.step < total {
                _ = events(.checkpoint(step: state.step, path: try checkpoint()))
            }
            if control == .stop {
                return TrainingSummary(finalDirectory: nil, lastCheckpoint: lastCheckpoint, steps: state.step, interrupted: true,
                                       losses: losses.map(\.loss))
            }
        }
        // The end: a last checkpoint (so a longer schedule can resume), an evaluation, and final/.
        _ = events(.checkpoint(step: state.step, path: try checkpoint()))
        let m = evaluate()
        try output { try metrics.append(.object([("step", .int(state.step)), ("eval", .object(m.map { ($0.0, .double($0.1)) }))])) }
        _ = events(.evaluation(step: state.step, metrics: m))
        let final = try output {
            try directory.writeFinal { dir in
                try StudentCheckpoint.save(student, to: dir, dtype: .F32, tokenizerSource: tokenizerSource)
                try writeFileAtomically(FileSystem.join(dir, "recipe.json"), text: recipeJSON.serialized(indent: 2) + "\n")
            }
        }
        _ = events(.finished(path: final))
        return TrainingSummary(finalDirectory: final, lastCheckpoint: lastCheckpoint, steps: state.step, interrupted: false,
                               losses: losses.map(\.loss))
    }

    /// The checkpoint's data position must exist in this run's training data (the same token count: other
    /// data cannot continue the run, and a cursor past the windows would index outside them).
    func checkDataPosition(_ s: TrainerState, path: String, window: Int) throws {
        if let n = s.trainTokens, n != train.count {
            throw TrainingError.incompatibleResume(path: path, detail: "the checkpoint was trained on \(n) tokens, the recipe's data now has "
                + "\(train.count): the training data changed")
        }
        let windows = train.count / window
        guard s.cursor <= windows, s.epoch < 1 << 40 else {
            throw TrainingError.corruptCheckpoint(path: FileSystem.join(path, "trainer_state.json"),
                                                  detail: "data position epoch \(s.epoch), window \(s.cursor) is outside the \(windows) windows of the training data")
        }
    }

    /// `run.*` keys a resumed run may change: they steer the run, not the numbers it computes.
    static let runKeysFreeOnResume: Set<String> = ["threads", "checkpoint_every", "keep_last", "divergence_factor", "on_divergence",
                                                    "max_rollbacks", "rollback_lr_factor"]

    /// A resumed run must continue the same run: everything but the length of the schedule, the evaluation
    /// and checkpoint cadence, the thread count and the divergence policy must match.
    func checkResumable(saved: JSONValue, path: String) throws {
        func strip(_ v: JSONValue) -> JSONValue {
            guard var m = v.objectMembers else { return v }
            m = m.map { k, x in
                if k == "schedule", let s = x.objectMembers { return (k, .object(s.filter { $0.0 != "steps" })) }
                if k == "run", let s = x.objectMembers { return (k, .object(s.filter { !DistillationTrainer.runKeysFreeOnResume.contains($0.0) })) }
                return (k, x)
            }
            // The cache's location changes no number (its contents are checked against the teacher).
            return .object(m.filter { $0.0 != "eval" && $0.0 != "teacher_cache" })
        }
        if strip(saved) != strip(recipeJSON) {
            throw TrainingError.incompatibleResume(path: path, detail: "the recipe differs from the one the checkpoint was made with "
                + "(only schedule.steps, eval.*, teacher_cache, run.threads, run.checkpoint_every and run.keep_last may change)")
        }
    }

    /// Held-out metrics: student perplexity on the first `eval.tokens` valid tokens (windows of seq_len).
    public func evaluate() -> [(String, Double)] {
        guard valid.count >= 2 else { return [] }
        let tokens = Array(valid.prefix(max(2, config.eval.tokens)))
        let ctx = min(config.data.seqLen, tokens.count)
        let plan = PerplexityPlan(tokenCount: tokens.count, context: max(2, ctx), stride: max(1, ctx))
        let r = evaluatePerplexity(model: student, tokens: tokens, plan: plan)
        return [("valid_nll", r.meanNLL), ("valid_ppl", r.perplexity)]
    }

    func mergeComponents(_ a: [(String, Double)], _ b: [(String, Double)], weight: Double) -> [(String, Double)] {
        if a.isEmpty { return b.map { ($0.0, $0.1 * weight) } }
        return zip(a, b).map { ($0.0, $0.1 + $1.1 * weight) }
    }
}

/// Appends JSON lines to the run's metrics file.
final class MetricsLog {
    let path: String
    init(path: String) throws {
        self.path = path
        if !FileSystem.exists(path) { try writeFileAtomically(path, text: "") }
    }

    func append(_ v: JSONValue) throws { try append(bytes: Array((v.serialized() + "\n").utf8)) }

    /// Appends whole lines in one write (a short write, e.g. on a full disk, is an error).
    func append(bytes line: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        if fd < 0 { throw IOFailure(path: path, operation: "open for appending", reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var off = 0
        while off < line.count {
            let n = line.withUnsafeBytes { write(fd, $0.baseAddress! + off, $0.count - off) }
            if n < 0 && errno == EINTR { continue }
            // A short write is followed by one that fails with the reason (ENOSPC, EFBIG, …).
            if n <= 0 { throw IOFailure(path: path, operation: "append", reason: n < 0 ? String(cString: strerror(errno)) : "nothing written") }
            off += n
        }
    }
}
