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
