import CheckpointIO
import Conversion
import Models
import TensorCore
import TestSupport
import Testing
import Training

/// A synthetic teacher and its converted student in a fresh directory.
func makeTeacherAndStudent(hybrid: [Int] = [], seed: UInt64 = 3) throws -> (dir: String, teacher: TeacherModel, studentDir: String) {
    let dir = Fixtures.temporaryDirectory("t2r-train")
    try SyntheticCheckpoint.write(to: "\(dir)/teacher", vocab: 29, hidden: 16, intermediate: 24, layers: 2, heads: 4, kvHeads: 2, seed: seed)
    let teacher = try TeacherCheckpoint.open("\(dir)/teacher")
    var o = ConversionOptions()
    o.numSlots = 4
    o.keepSoftmaxLayers = hybrid
    o.dtype = .f32
    try GSAConverter.convert(teacher: teacher, to: "\(dir)/student", options: o)
    return (dir, try teacher.loadModel(), "\(dir)/student")
}

func config(_ stage: TrainingConfig.Stage, dir: String, studentDir: String, steps: Int, preset: TrainingConfig.TrainablePreset,
            lr: Double = 1e-2, kl: Double = 1, ce: Double = 0) -> TrainingConfig {
    var c = TrainingConfig(stage: stage, teacher: "\(dir)/teacher", student: .init(initPath: studentDir), run: .init(output: "\(dir)/run"))
    c.trainable.preset = preset
    c.data.seqLen = 24
    c.data.batchSize = 2
    c.loss.kl = kl
    c.loss.ce = ce
    c.optimizer.lr = lr
    c.optimizer.weightDecay = 0.01
    c.schedule.steps = steps
    c.schedule.warmupSteps = 2
    c.eval.tokens = 64
    return c
}

func randomTokens(_ n: Int, vocab: Int, seed: UInt64) -> [Int] {
    var rng = SeededRNG(seed: seed)
    return (0..<n).map { _ in rng.nextInt(below: vocab) }
}

@Suite struct DistillationTests {
    @Test func overfittingOneBatchDrivesTheLossToZero() throws {
        let (dir, teacher, studentDir) = try makeTeacherAndStudent()
        var c = config(.endToEnd, dir: dir, studentDir: studentDir, steps: 120, preset: .all, lr: 3e-3, kl: 0, ce: 1)
        c.schedule.warmupSteps = 0
        c.schedule.minLRRatio = 1
        c.optimizer.weightDecay = 0
        let batch = randomTokens(2 * 25, vocab: 29, seed: 5)  // exactly one batch of two windows: the same batch every step
        let student = try StudentCheckpoint.open(studentDir).loadModel { _ in true }
        let trainer = try DistillationTrainer(config: c, teacher: teacher, student: student, train: batch, valid: batch,
                                              recipeJSON: .object([]), tokenizerSource: nil)
        let s = try trainer.run(resume: false) { _ in .proceed }
        #expect(s.losses.count == 120)
        #expect(s.losses.last! < 0.05, "final loss \(s.losses.last!)")
        let increases = zip(s.losses, s.losses.dropFirst()).filter { $1 > $0 }.count
        #expect(increases == 0, "the loss rose \(increases) times: \(s.losses.prefix(20))")
        #expect(FileSystem.exists("\(dir)/run/final/model.safetensors"))
    }

    @Test(arguments: [TrainingConfig.Stage.attentionTransfer, .endToEnd])
    func resumeIsBitIdentical(_ stage: TrainingConfig.Stage) throws {
        let (dir, teacher, studentDir) = try makeTeacherAndStudent(hybrid: stage == .endToEnd ? [1] : [])
        let tokens = randomTokens(2000, vocab: 29, seed: 9)
        func trainer(_ out: String, steps: Int) throws -> DistillationTrainer {
            var c = config(stage, dir: dir, studentDir: studentDir, steps: steps, preset: stage == .endToEnd ? .attention : .new, ce: 0.5)
            c.run.output = out
            c.run.checkpointEvery = 3
            c.schedule.gradAccumulation = 2
            c.schedule.steps = 10
            return try DistillationTrainer(config: c, teacher: teacher, student: try StudentCheckpoint.open(studentDir)
                .loadModel(trainable: TrainableSelection.predicate(c.trainable)), train: tokens, valid: tokens, recipeJSON: .object([]), tokenizerSource: nil)
        }
        // Uninterrupted: 10 steps.
        let full = try trainer("\(dir)/full", steps: 10).run(resume: false) { _ in .proceed }
        // Interrupted after step 4 (the stop writes a checkpoint), then resumed to 10.
        var seen = 0
        let part = try trainer("\(dir)/part", steps: 10).run(resume: false) { e in
            if case .step = e { seen += 1 }
            return seen >= 4 ? .stop : .proceed
        }
        #expect(part.interrupted && part.steps == 4)
        let rest = try trainer("\(dir)/part", steps: 10).run(resume: true) { _ in .proceed }
        #expect(part.losses + rest.losses == full.losses, "\(part.losses + rest.losses) vs \(full.losses)")
        let a = try readFile("\(dir)/full/final/model.safetensors"), b = try readFile("\(dir)/part/final/model.safetensors")
        #expect(a == b, "final weights differ")
    }

    @Test func attentionTransferFitsOneBatch() throws {
        let (dir, teacher, studentDir) = try makeTeacherAndStudent()
        var c = config(.attentionTransfer, dir: dir, studentDir: studentDir, steps: 60, preset: .attention, lr: 1e-2)
        c.optimizer.weightDecay = 0
        let batch = randomTokens(2 * 25, vocab: 29, seed: 6)
        let student = try StudentCheckpoint.open(studentDir).loadModel(trainable: TrainableSelection.predicate(c.trainable))
        let s = try DistillationTrainer(config: c, teacher: teacher, student: student, train: batch, valid: batch,
                                        recipeJSON: .object([]), tokenizerSource: nil).run(resume: false) { _ in .proceed }
        #expect(s.losses.last! < 0.2 * s.losses.first!, "relative MSE \(s.losses.first!) → \(s.losses.last!)")
    }

    @Test func resumeRefusesAnotherRecipe() throws {
        let (dir, teacher, studentDir) = try makeTeacherAndStudent()
        let tokens = randomTokens(1000, vocab: 29, seed: 1)
        var c = config(.attentionTransfer, dir: dir, studentDir: studentDir, steps: 2, preset: .new)
        _ = try DistillationTrainer(config: c, teacher: teacher, student: try StudentCheckpoint.open(studentDir).loadModel { $0.kind == .fProj || $0.kind == .gNorm },
                                    train: tokens, valid: tokens, recipeJSON: .object([("optimizer", .object([("lr", .double(0.01))]))]),
                                    tokenizerSource: nil).run(resume: false) { _ in .proceed }
        c.schedule.steps = 4
        let t2 = try DistillationTrainer(config: c, teacher: teacher, student: try StudentCheckpoint.open(studentDir).loadModel { $0.kind == .fProj || $0.kind == .gNorm },
                                         train: tokens, valid: tokens, recipeJSON: .object([("optimizer", .object([("lr", .double(0.02))]))]),
                                         tokenizerSource: nil)
        #expect(throws: TrainingError.self) { try t2.run(resume: true) { _ in .proceed } }
    }

    @Test func nonFiniteLossStopsWithAClearError() throws {
        let (dir, teacher, studentDir) = try makeTeacherAndStudent()
        let tokens = randomTokens(1000, vocab: 29, seed: 2)
        let student = try StudentCheckpoint.open(studentDir).loadModel { _ in true }
        student.value(.fProj(0)).pointer[3] = .nan
        let t = try DistillationTrainer(config: config(.endToEnd, dir: dir, studentDir: studentDir, steps: 3, preset: .all), teacher: teacher,
                                        student: student, train: tokens, valid: tokens, recipeJSON: .object([]), tokenizerSource: nil)
        #expect(throws: TrainingError.nonFinite(step: 1, what: "the loss", lastCheckpoint: nil)) { try t.run(resume: false) { _ in .proceed } }
    }

    /// k micro-batches of b windows per step compute the step of one batch of k·b windows (the same windows:
    /// the sampler draws them in the same order); only the summation order differs. (Stage 1 without
    /// normalize_mse: the normalisation divides by each micro-batch's own target energy.)
    @Test(arguments: [TrainingConfig.Stage.attentionTransfer, .endToEnd])
    func gradientAccumulationEqualsOneLargerBatch(_ stage: TrainingConfig.Stage) throws {
        let (dir, teacher, studentDir) = try makeTeacherAndStudent()
        let tokens = randomTokens(3000, vocab: 29, seed: 21)
        func run(_ name: String, batch: Int, accumulation: Int) throws -> TrainingSummary {
            var c = config(stage, dir: dir, studentDir: studentDir, steps: 5, preset: .attention, ce: 0.5)
            c.run.output = "\(dir)/\(name)"
            c.data.batchSize = batch
            c.schedule.gradAccumulation = accumulation
            c.loss.normalizeMSE = false
            return try DistillationTrainer(config: c, teacher: teacher, student: try StudentCheckpoint.open(studentDir)
                .loadModel(trainable: TrainableSelection.predicate(c.trainable)), train: tokens, valid: tokens, recipeJSON: .object([]),
                                           tokenizerSource: nil).run(resume: false) { _ in .proceed }
        }
        let accumulated = try run("accumulated", batch: 1, accumulation: 4)
        let large = try run("large", batch: 4, accumulation: 1)
        #expect(accumulated.losses.count == 5)
        for (a, b) in zip(accumulated.losses, large.losses) {
            #expect(abs(a - b) <= 1e-5 * abs(b), "\(accumulated.losses) vs \(large.losses)")
        }
        let two = try run("two", batch: 2, accumulation: 1)
        #expect(zip(two.losses, large.losses).contains { abs($0 - $1) > 1e-4 * abs($1) }, "a smaller batch must give other losses")
    }

    /// eval.every = N: held-out evaluations after steps N, 2N, … and at the end, in metrics.jsonl and as events.
    @Test func evaluationsRunEveryNSteps() throws {
        let (dir, teacher, studentDir) = try makeTeacherAndStudent()
        let tokens = randomTokens(1500, vocab: 29, seed: 23)
        var c = config(.endToEnd, dir: dir, studentDir: studentDir, steps: 7, preset: .new)
        c.eval.every = 3
        var evaluated: [Int] = []
        _ = try DistillationTrainer(config: c, teacher: teacher, student: try StudentCheckpoint.open(studentDir)
            .loadModel(trainable: TrainableSelection.predicate(c.trainable)), train: tokens, valid: tokens, recipeJSON: .object([]),
                                    tokenizerSource: nil).run(resume: false) { e in
            if case let .evaluation(step, m) = e {
                evaluated.append(step)
                #expect(m.map(\.0) == ["valid_nll", "valid_ppl"] && m[1].1 > 1 && m[1].1.isFinite)
            }
            return .proceed
        }
        #expect(evaluated == [3, 6, 7])
        let lines = try readTextFile("\(dir)/run/metrics.jsonl").split(separator: "\n").map { try JSONParser.parse(Array($0.utf8)) }
        #expect(lines.filter { $0["eval"] != nil }.compactMap { $0["step"]?.intValue } == [3, 6, 7])
        #expect(lines.filter { $0["loss"] != nil }.compactMap { $0["step"]?.intValue } == Array(1...7))
    }

    /// A NaN that appears mid-run (a poisoned token's embedding, first met at some step) stops the run with an
    /// error naming the newest checkpoint, which is complete and holds the last good step.
    @Test func nonFiniteLossMidRunNamesTheLastGoodCheckpoint() throws {
        let (dir, teacher, studentDir) = try makeTeacherAndStudent()
        var tokens = randomTokens(2500, vocab: 28, seed: 4)  // token 28 never occurs …
        tokens[1900] = 28  // … except here
        let student = try StudentCheckpoint.open(studentDir).loadModel { _ in true }
        let e = student.value(.embeddings)
        for i in 0..<e.shape[1] { e.pointer[28 * e.shape[1] + i] = .nan }
        var c = config(.endToEnd, dir: dir, studentDir: studentDir, steps: 60, preset: .all)
        c.run.checkpointEvery = 1
        c.run.keepLast = 1
        let t = try DistillationTrainer(config: c, teacher: teacher, student: student, train: tokens, valid: tokens,
                                        recipeJSON: .object([]), tokenizerSource: nil)
        var steps = 0
        do {
            _ = try t.run(resume: false) { e in
                if case .step = e { steps += 1 }
                return .proceed
            }
            Issue.record("the poisoned window was never drawn")
        } catch let TrainingError.nonFinite(step, what, last) {
            #expect(step == steps + 1 && what == "the loss" && steps >= 1, "stopped at step \(step) after \(steps) good steps")
            let checkpoint = try #require(last)
            #expect(checkpoint.hasSuffix("step-" + String(repeating: "0", count: 8 - String(steps).count) + String(steps)))
            #expect(FileSystem.exists("\(checkpoint)/trainer_state.json") && FileSystem.exists("\(checkpoint)/model.safetensors"))
            #expect(TrainingError.nonFinite(step: step, what: what, lastCheckpoint: last).description
                    == "step \(step): the loss is not finite (NaN or Inf); training stopped. The last good checkpoint is \(checkpoint)")
        }
    }

    /// trainable.extra adds tensors by fla-name glob to a preset.
    @Test func extraPatternsSelectTensorsByName() {
        var t = TrainingConfig.Trainable()
        t.extra = ["model.layers.*.mlp_norm.weight", "model.norm.weigh?"]
        let p = TrainableSelection.predicate(t)
        #expect(p(.fProj(0)) && p(.gNorm(1)))  // the preset "new"
        #expect(p(.mlpNorm(0)) && p(.mlpNorm(5)) && p(.finalNorm))
        #expect(!p(.attnNorm(0)) && !p(.qProj(0)) && !p(.embeddings))
        #expect(TrainableSelection.globMatch("a*c", "abbc") && TrainableSelection.globMatch("*", "") && !TrainableSelection.globMatch("a?c", "ac"))
    }

    @Test func samplerIsSeededAndResumable() {
        var a = WindowSamplerProbe(tokens: 1000, length: 10, seed: 4)
        let first = a.take(150)
        var b = WindowSamplerProbe(tokens: 1000, length: 10, seed: 4)
        let x = b.take(70)
        var c = WindowSamplerProbe(tokens: 1000, length: 10, seed: 4, epoch: b.sampler.epoch, cursor: b.sampler.cursor)
        #expect(x + c.take(80) == first)
        #expect(Set(first.prefix(100)) == Set(stride(from: 0, to: 1000, by: 10)))  // one epoch covers every window once
        var d = WindowSamplerProbe(tokens: 1000, length: 10, seed: 5)
        #expect(d.take(100) != Array(first.prefix(100)))
    }
}

import Corpus

struct WindowSamplerProbe {
    var sampler: WindowSampler
    init(tokens: Int, length: Int, seed: UInt64, epoch: Int = 0, cursor: Int = 0) {
        sampler = WindowSampler(tokenCount: tokens, length: length, seed: seed, epoch: epoch, cursor: cursor)
    }
    mutating func take(_ n: Int) -> [Int] { sampler.next(n) }
}

@Suite struct LoRATests {
    @Test func adapterGradientsMatchFiniteDifferences() throws {
        let (_, _, studentDir) = try makeTeacherAndStudent(hybrid: [1])
        let m = try StudentCheckpoint.open(studentDir).loadModel(trainable: TrainableSelection.predicate({
            var t = TrainingConfig.Trainable(); t.preset = .lora; return t }()))
        let lora = LoRAAdapters(model: m, rank: 2, alpha: 4, seed: 1, optimizer: AdamWConfig())
        // Non-zero B so both adapters matter.
        var rng = SeededRNG(seed: 4)
        for t in lora.targets { lora.params.value(t.bName).fillNormal(std: 0.3, rng: &rng) }
        lora.merge()
        let tokens = randomTokens(30, vocab: 29, seed: 3)
        let r = (0..<(30 * 29)).map { _ in rng.nextNormal() }
        let a = StudentTrainingActivations(model: m, batch: 1, length: 30)
        let hidden = m.forwardTraining(tokens: tokens, a)
        let logits = Tensor(zeros: [30, 29])
        m.headForward(logits, hidden: hidden)
        m.params.zeroGrads()
        lora.params.zeroGrads()
        let dHidden = Tensor(zeros: hidden.shape)
        m.headBackward(dHidden: dHidden, dLogits: Tensor(shape: [30, 29], values: r.map(Float.init)), hidden: hidden)
        m.backward(a, dHidden: dHidden)
        lora.backward()
        let picked = lora.params.entries.filter { $0.name.contains("layers.0.attn.q_proj") || $0.name.contains("layers.1.attn.o_proj") }
        let inputs = picked.map { GradCheckInput($0.name, values: lora.params.value($0.name).toArray().map(Double.init),
                                                 analytic: lora.params.grad($0.name)!.toArray().map(Double.init)) }
        gradCheck(inputs, tolerance: GradCheckTolerance(eps: 1e-2, atol: 1e-2, rtol: 2e-2), maxElementsPerInput: 6) { values in
            for (e, v) in zip(picked, values) { lora.params.value(e.name).assign(Tensor(shape: e.shape, values: v.map(Float.init))) }
            lora.merge()
            let l = m.logits(m.forward(tokens: tokens, batch: 1)).toArray()
            return zip(l, r).reduce(0) { $0 + Double($1.0) * $1.1 }
        }
    }

    @Test func loraTrainingResumesBitIdenticallyAndExportsMergedWeights() throws {
        let (dir, teacher, studentDir) = try makeTeacherAndStudent()
        let tokens = randomTokens(2000, vocab: 29, seed: 12)
        func trainer(_ out: String) throws -> DistillationTrainer {
            var c = config(.endToEnd, dir: dir, studentDir: studentDir, steps: 8, preset: .lora, ce: 0.3)
            c.trainable.loraRank = 2
            c.run.output = out
            return try DistillationTrainer(config: c, teacher: teacher, student: try StudentCheckpoint.open(studentDir)
                .loadModel(trainable: TrainableSelection.predicate(c.trainable)), train: tokens, valid: tokens, recipeJSON: .object([]), tokenizerSource: nil)
        }
        let t = try trainer("\(dir)/full")
        #expect(t.optimizer.momentOffsets.keys.allSatisfy { $0.contains("f_proj") || $0.contains("g_norm") })
        let full = try t.run(resume: false) { _ in .proceed }
        var n = 0
        let part = try trainer("\(dir)/part").run(resume: false) { e in
            if case .step = e { n += 1 }
            return n >= 3 ? .stop : .proceed
        }
        let rest = try trainer("\(dir)/part").run(resume: true) { _ in .proceed }
        #expect(part.losses + rest.losses == full.losses)
        #expect(try readFile("\(dir)/full/final/model.safetensors") == readFile("\(dir)/part/final/model.safetensors"))
        // The export holds merged weights: q_proj moved away from the converted student's.
        let before = try SafetensorsFile(path: "\(studentDir)/model.safetensors").loadFloat32("model.layers.0.attn.q_proj.weight").toArray()
        let after = try SafetensorsFile(path: "\(dir)/full/final/model.safetensors").loadFloat32("model.layers.0.attn.q_proj.weight").toArray()
        #expect(before != after)
    }
}
