// A distillation recipe: one JSON5 file per stage and model under recipes/, decoded strictly into a
// TrainingConfig (recipes/README.md lists every key). `resolvedJSON` is the recipe with every default
// filled in; it is saved with the run and compared on --resume.
import Conversion
import Foundation
import Models
import TensorCore
import Training

public enum Recipe {
    /// Loads `path`, applies `--set` overrides, decodes and validates.
    public static func load(_ path: String, overrides: [String] = []) throws -> TrainingConfig {
        let doc = try RecipeDocument.applyOverrides(try RecipeDocument.load(path), overrides, file: path)
        return try decode(doc, file: path)
    }

    /// Decodes a recipe tree.
    public static func decode(_ doc: JSONValue, file: String) throws -> TrainingConfig {
        let r = try RecipeReader(doc, file: file, path: "")
        guard let stage = try r.choice("stage", TrainingConfig.Stage.self) else {
            throw RecipeError(file: file, key: "stage", problem: "missing (required): \"attention_transfer\" or \"end_to_end\"")
        }
        let teacher = try r.requiredString("teacher")

        let s = try r.object("student")
        var student = TrainingConfig.Student(initPath: try s.requiredString("init"))
        if s.has("convert") {
            let c = try s.object("convert")
            var o = ConversionOptions()
            o.numSlots = try c.int("num_slots", min: 1, max: 1 << 16) ?? o.numSlots
            o.gateLogitNormalizer = try c.double("gate_logit_normalizer", min: 0, exclusiveMin: true) ?? o.gateLogitNormalizer
            o.featureMap = try c.choice("feature_map", GSAConfig.FeatureMap.self) ?? o.featureMap
            o.fProjInit = try c.choice("f_proj_init", ConversionOptions.FProjInit.self) ?? o.fProjInit
            o.seed = try c.uint64("seed") ?? o.seed
            o.keepSoftmaxLayers = try c.ints("keep_softmax_layers") ?? []
            o.dtype = try c.choice("dtype", ConversionOptions.OutputDType.self) ?? o.dtype
            o.initTensors = try c.string("init_tensors")
            try c.finish()
            student.convert = o
        } else {
            _ = try s.object("convert")
        }
        student.calibrateOutputScale = try s.bool("calibrate_output_scale") ?? false
        if student.calibrateOutputScale && stage != .attentionTransfer {
            throw RecipeError(file: file, key: "student.calibrate_output_scale",
                              problem: "applies to stage \"attention_transfer\" only (it fits g_norm to the teacher's attention outputs)")
        }
        try s.finish()

        let out = try r.object("run")
        var run = TrainingConfig.Run(output: try out.requiredString("output"))
        guard let seed = try out.uint64("seed") else { throw RecipeError(file: file, key: "run.seed", problem: "missing (required)") }
        run.seed = seed
        run.threads = try out.int("threads", min: 0) ?? run.threads
        run.checkpointEvery = try out.int("checkpoint_every", min: 0) ?? run.checkpointEvery
        run.keepLast = try out.int("keep_last", min: 1) ?? run.keepLast
        run.divergenceFactor = try out.double("divergence_factor", min: 0) ?? run.divergenceFactor
        run.onDivergence = try out.choice("on_divergence", TrainingConfig.DivergenceAction.self) ?? run.onDivergence
        run.maxRollbacks = try out.int("max_rollbacks", min: 0) ?? run.maxRollbacks
        run.rollbackLRFactor = try out.double("rollback_lr_factor", min: 0, max: 1, exclusiveMin: true) ?? run.rollbackLRFactor
        try out.finish()

        var c = TrainingConfig(stage: stage, teacher: teacher, student: student, run: run)

        let t = try r.object("trainable")
        c.trainable.preset = try t.choice("preset", TrainingConfig.TrainablePreset.self) ?? c.trainable.preset

        c.trainable.extra = try t.strings("extra") ?? []
        c.trainable.loraRank = try t.int("lora_rank", min: 1, max: 1 << 16) ?? c.trainable.loraRank
        c.trainable.loraAlpha = try t.double("lora_alpha", min: 0, exclusiveMin: true) ?? c.trainable.loraAlpha
        try t.finish()

        let d = try r.object("data")
        guard let train = try d.strings("train"), !train.isEmpty else {
            throw RecipeError(file: file, key: "data.train", problem: "missing (required): text (.txt) or token (.u16/.u32) files")
        }
        c.data.train = train
        c.data.valid = try d.strings("valid") ?? []
        c.data.seqLen = try d.int("seq_len", min: 2, max: 1 << 20) ?? c.data.seqLen
        c.data.batchSize = try d.int("batch_size", min: 1, max: 1 << 16) ?? c.data.batchSize
        c.data.maxTrainTokens = try d.int("max_train_tokens", min: 0) ?? 0
        try d.finish()

        let l = try r.object("loss")
        c.loss.mse = try l.double("mse", min: 0) ?? c.loss.mse
        c.loss.normalizeMSE = try l.bool("normalize_mse") ?? c.loss.normalizeMSE
        c.loss.kl = try l.double("kl", min: 0) ?? c.loss.kl
        c.loss.ce = try l.double("ce", min: 0) ?? c.loss.ce
        c.loss.temperature = try l.double("temperature", min: 0, exclusiveMin: true) ?? c.loss.temperature
        c.loss.topK = try l.int("top_k", min: 0, max: 1 << 24) ?? c.loss.topK
        try l.finish()
        if stage == .endToEnd && c.loss.kl == 0 && c.loss.ce == 0 {
            throw RecipeError(file: file, key: "loss", problem: "kl and ce are both 0: stage end_to_end needs a positive weight")
        }
        if c.loss.topK > 0 && (stage != .endToEnd || c.loss.kl == 0) {
            throw RecipeError(file: file, key: "loss.top_k", problem: "applies to the KL term of stage \"end_to_end\" only (with loss.kl > 0)")
        }
        c.teacherCache = try r.string("teacher_cache")
        if c.teacherCache != nil && c.loss.topK == 0 {
            throw RecipeError(file: file, key: "teacher_cache",
                              problem: "needs loss.top_k > 0: the cache holds the teacher's top-k logits of each batch (e.g. top_k: 64)")
        }

        let o = try r.object("optimizer")
        c.optimizer.lr = try o.double("lr", min: 0, exclusiveMin: true) ?? c.optimizer.lr
        c.optimizer.beta1 = try o.double("beta1", min: 0, max: 0.999999) ?? c.optimizer.beta1
        c.optimizer.beta2 = try o.double("beta2", min: 0, max: 0.999999) ?? c.optimizer.beta2
        c.optimizer.eps = try o.double("eps", min: 0, exclusiveMin: true) ?? c.optimizer.eps
        c.optimizer.weightDecay = try o.double("weight_decay", min: 0) ?? c.optimizer.weightDecay
        c.optimizer.gradClip = try o.double("grad_clip", min: 0) ?? c.optimizer.gradClip
        try o.finish()

        let sc = try r.object("schedule")
        c.schedule.steps = try sc.int("steps", min: 1, max: 1 << 40) ?? c.schedule.steps
        c.schedule.warmupSteps = try sc.int("warmup_steps", min: 0) ?? c.schedule.warmupSteps
        c.schedule.minLRRatio = try sc.double("min_lr_ratio", min: 0, max: 1) ?? c.schedule.minLRRatio
        c.schedule.gradAccumulation = try sc.int("grad_accumulation", min: 1, max: 1 << 16) ?? c.schedule.gradAccumulation
        try sc.finish()

        let e = try r.object("eval")
        c.eval.every = try e.int("every", min: 0) ?? c.eval.every
        c.eval.tokens = try e.int("tokens", min: 2) ?? c.eval.tokens
        try e.finish()

        try r.finish()
        return c
    }

    /// The recipe with every default filled in (snake_case keys, as in the files).
    public static func resolvedJSON(_ c: TrainingConfig) -> JSONValue {
        var student: [(String, JSONValue)] = [("init", .string(c.student.initPath))]
        if let o = c.student.convert {
            student.append(("convert", .object([
                ("num_slots", .int(o.numSlots)), ("gate_logit_normalizer", .double(o.gateLogitNormalizer)),
                ("feature_map", .string(o.featureMap.rawValue)), ("f_proj_init", .string(o.fProjInit.rawValue)),
                ("seed", .number(String(o.seed))), ("keep_softmax_layers", .array(o.keepSoftmaxLayers.map { .int($0) })),
                ("dtype", .string(o.dtype.rawValue)), ("init_tensors", o.initTensors.map { .string($0) } ?? .null),
            ])))
        }
        student.append(("calibrate_output_scale", .bool(c.student.calibrateOutputScale)))
        return .object([
            ("stage", .string(c.stage.rawValue)),
            ("teacher", .string(c.teacher)),
            ("student", .object(student)),
            ("trainable", .object([("preset", .string(c.trainable.preset.rawValue)), ("extra", .array(c.trainable.extra.map { .string($0) })),
                                   ("lora_rank", .int(c.trainable.loraRank)), ("lora_alpha", .double(c.trainable.loraAlpha))])),
            ("data", .object([("train", .array(c.data.train.map { .string($0) })), ("valid", .array(c.data.valid.map { .string($0) })),
                              ("seq_len", .int(c.data.seqLen)), ("batch_size", .int(c.data.batchSize)),
                              ("max_train_tokens", .int(c.data.maxTrainTokens))])),
            // top_k and teacher_cache only when set, so recipes saved before they existed still resume.
            ("loss", .object([("mse", .double(c.loss.mse)), ("normalize_mse", .bool(c.loss.normalizeMSE)), ("kl", .double(c.loss.kl)),
                              ("ce", .double(c.loss.ce)), ("temperature", .double(c.loss.temperature))]
                             + (c.loss.topK > 0 ? [("top_k", .int(c.loss.topK))] : []))),
            ("optimizer", .object([("lr", .double(c.optimizer.lr)), ("beta1", .double(c.optimizer.beta1)), ("beta2", .double(c.optimizer.beta2)),
                                   ("eps", .double(c.optimizer.eps)), ("weight_decay", .double(c.optimizer.weightDecay)),
                                   ("grad_clip", .double(c.optimizer.gradClip))])),
            ("schedule", .object([("steps", .int(c.schedule.steps)), ("warmup_steps", .int(c.schedule.warmupSteps)),
                                  ("min_lr_ratio", .double(c.schedule.minLRRatio)), ("grad_accumulation", .int(c.schedule.gradAccumulation))])),
            ("eval", .object([("every", .int(c.eval.every)), ("tokens", .int(c.eval.tokens))])),
            ("run", .object([("output", .string(c.run.output)), ("seed", .number(String(c.run.seed))), ("threads", .int(c.run.threads)),
                             ("checkpoint_every", .int(c.run.checkpointEvery)), ("keep_last", .int(c.run.keepLast)),
                             ("divergence_factor", .double(c.run.divergenceFactor)), ("on_divergence", .string(c.run.onDivergence.rawValue)),
                             ("max_rollbacks", .int(c.run.maxRollbacks)), ("rollback_lr_factor", .double(c.run.rollbackLRFactor))])),
        ] + (c.teacherCache.map { [("teacher_cache", .string($0))] } ?? []))
    }
}
