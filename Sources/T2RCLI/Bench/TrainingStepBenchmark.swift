// `t2r bench stage1` and `t2r bench stage2`: one optimizer step of each distillation stage on SmolLM2,
// with the batch, sequence length, losses and trainable preset of recipes/smollm2-135m/stage{1,2}.json5
// (stage 1: 4×512, stage 2: 2×512, preset "attention"), on windows of the benchmark text. A step is what
// `t2r distill` does per step minus logging and checkpoints: the teacher forward, the student forward,
// the loss, the backward, gradient clipping and the AdamW update (Training/TrainingStepRunner.swift).
import Models
import Recipes
import TensorCore
import Training

enum Stage1Benchmark: Benchmark {
    static let name = "stage1"
    static let abstract = "One stage-1 (attention transfer) training step on SmolLM2, recipe batch × seq."
    static let options = TrainingStepBenchmark.options

    static func run(_ session: BenchSession) throws -> [BenchmarkResult] {
        try TrainingStepBenchmark.run(session, name: name, recipe: "stage1.json5")
    }
}

enum Stage2Benchmark: Benchmark {
    static let name = "stage2"
    static let abstract = "One stage-2 (end-to-end KL + CE) training step on SmolLM2, recipe batch × seq."
    static let options = TrainingStepBenchmark.options

    static func run(_ session: BenchSession) throws -> [BenchmarkResult] {
        try TrainingStepBenchmark.run(session, name: name, recipe: "stage2.json5")
    }
}

enum TrainingStepBenchmark {
    static let defaultRecipes = "recipes/smollm2-135m"
    static let options = [
        OptionSpec("recipes", value: "DIR", help: "Directory of the stage1/stage2 recipes `stage1`/`stage2` take their shapes from.",
                   default: defaultRecipes),
        OptionSpec("steps", value: "N", help: "Timed optimizer steps of `stage1`/`stage2` (after one warm-up step).", default: "3"),
    ]

    static func run(_ session: BenchSession, name: String, recipe: String) throws -> [BenchmarkResult] {
        let threads = try session.configureThreads()
        let steps = try session.args.int("steps", default: session.quick ? 1 : 3, min: 1)
        let path = FileSystem.join(session.args.string("recipes") ?? defaultRecipes, recipe)
        var cfg = try Recipe.load(path)
        cfg.teacher = session.teacherPath
        cfg.schedule.gradAccumulation = 1
        let (b, t) = (cfg.data.batchSize, cfg.data.seqLen)
        let trainable = TrainableSelection.predicate(cfg.trainable)
        let teacher = try session.teacher().model
        let student = try session.student(trainable: trainable)
        let text = try session.tokens(count: (steps + 1) * b * (t + 1))
        let trainer = try DistillationTrainer(config: cfg, teacher: teacher, student: student, train: text, valid: [],
                                              recipeJSON: .null, tokenizerSource: nil)
        let runner = TrainingStepRunner(trainer: trainer)
        func windows(_ step: Int) -> [[Int]] {
            (0..<b).map { i in let o = (step * b + i) * (t + 1); return Array(text[o..<(o + t + 1)]) }
        }
        session.log("\(path): \(b)×\(t) tokens per step, preset \(cfg.trainable.preset.rawValue), "
            + "\(student.params.trainableCount) of \(student.params.parameterCount) parameters trainable")
        try runner.step(windows: windows(0), lr: cfg.optimizer.lr)  // warm-up: buffers, page faults
        var step = 0, loss = 0.0
        let m = try ProcessStats.measure(runs: steps) {
            step += 1
            loss = try runner.step(windows: windows(step), lr: cfg.optimizer.lr).loss
        }
        let flops = cfg.stage == .attentionTransfer
            ? FLOPCount.stage1Step(teacher: teacher.config, student: student.config, batch: b, length: t, trainable: trainable)
            : FLOPCount.stage2Step(teacher: teacher.config, student: student.config, batch: b, length: t, trainable: trainable)
        var r = BenchmarkResult(name: name, variant: "\(b)×\(t) \(cfg.trainable.preset.rawValue)", seconds: m.best, bytes: 0, rateOf: "",
                                peakRSSBytes: m.peakRSS, threads: threads)
        r.gflops = flops / m.best / 1e9
        r.tokensPerSecond = Double(b * t) / m.best
        r.extra = [("recipe", .string(path)), ("batch", .int(b)), ("seq_len", .int(t)), ("flops", .double(flops)),
                   ("trainable_parameters", .int(student.params.trainableCount)), ("last_loss", .double(loss)),
                   ("runs", .array(m.all.map { .double($0) }))]
        return [r]
    }
}
