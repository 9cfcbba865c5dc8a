// Divergence handling: run.on_divergence = "rollback" reloads the newest checkpoint and cuts the learning
// rate; "stop" (the default) fails with the last good checkpoint; max_rollbacks bounds the retries. A
// divergence is injected with a learning rate far too large for the model.
import CheckpointIO
import Foundation
import Models
import Conversion
import TensorCore
import TestSupport
import Testing
import Training

@Suite struct RollbackTests {
    /// A stage-2 run whose learning rate (3.0 for AdamW) blows the loss up within a few steps.
    func divergingRun(_ dir: String, _ studentDir: String, teacher: TeacherModel, action: TrainingConfig.DivergenceAction,
                      maxRollbacks: Int = 8, lrFactor: Double = 0.1) throws -> DistillationTrainer {
        var c = config(.endToEnd, dir: dir, studentDir: studentDir, steps: 12, preset: .all, lr: 3.0, kl: 1, ce: 0)
        c.schedule.warmupSteps = 0
        c.optimizer.gradClip = 0
        c.run.checkpointEvery = 2
        c.run.divergenceFactor = 1.5
        c.run.onDivergence = action
        c.run.maxRollbacks = maxRollbacks
        c.run.rollbackLRFactor = lrFactor
        let tokens = randomTokens(2000, vocab: 29, seed: 21)
        return try DistillationTrainer(config: c, teacher: teacher, student: try StudentCheckpoint.open(studentDir).loadModel { _ in true },
                                       train: tokens, valid: tokens, recipeJSON: .object([]), tokenizerSource: nil)
    }

    @Test func rollbackReloadsTheCheckpointAndCutsTheLearningRate() throws {
        let (dir, teacher, studentDir) = try makeTeacherAndStudent()
        var rollbacks: [(from: Int, to: Int, scale: Double)] = []
        let s = try divergingRun(dir, studentDir, teacher: teacher, action: .rollback).run(resume: false) { e in
            if case let .rollback(from, to, _, scale) = e { rollbacks.append((from, to, scale)) }
            return .proceed
        }
        #expect(!s.interrupted && s.steps == 12)
        #expect(!rollbacks.isEmpty, "the injected learning rate did not diverge")
        for (i, r) in rollbacks.enumerated() {
            #expect(r.to < r.from && r.to % 2 == 0, "rollback \(i) went from step \(r.from) to \(r.to)")
            #expect(abs(r.scale - pow(0.1, Double(i + 1))) < 1e-12, "rollback \(i): learning-rate scale \(r.scale)")
        }
        #expect(s.losses.count == 12 && s.losses.allSatisfy(\.isFinite), "\(s.losses)")
        // metrics.jsonl: one rollback line per rollback; step lines strictly increasing between rollbacks.
        let lines = try readTextFile("\(dir)/run/metrics.jsonl").split(separator: "\n").map { try JSONParser.parse(String($0)) }
        #expect(lines.filter { $0["rollback"] != nil }.count == rollbacks.count)
        var last = 0
        for l in lines {
            if l["rollback"] != nil { last = l["step"]!.intValue!; continue }
            guard l["loss"] != nil, let step = l["step"]?.intValue else { continue }
            #expect(step == last + 1, "step \(step) after \(last): a rolled-back step was not removed")
            last = step
        }
        // The cut learning rate is part of the checkpoint, so a resumed run keeps it.
        let state = try JSONParser.parse(try readFile("\(s.lastCheckpoint!)/trainer_state.json"))
        #expect(state["learning_rate_scale"]?.doubleValue == rollbacks.last!.scale)
        #expect(state["rollbacks"]?.intValue == rollbacks.count)
    }

    @Test func stopPolicyFailsWithTheLastGoodCheckpoint() throws {
        let (dir, teacher, studentDir) = try makeTeacherAndStudent()
        do {
            _ = try divergingRun(dir, studentDir, teacher: teacher, action: .stop).run(resume: false) { _ in .proceed }
            Issue.record("the run did not stop")
        } catch let e as TrainingError {
            switch e {
            case .diverged(_, _, _, let c), .nonFinite(_, _, let c):
                if let c { #expect(FileSystem.exists("\(c)/trainer_state.json"), "\(e)") }
                #expect(e.description.contains("training stopped"), "\(e)")
            default: Issue.record("unexpected error \(e)")
            }
        }
    }

    /// With the learning rate kept (factor 1) the replay diverges at the same step again, bit for bit.
    @Test func rollbacksAreBounded() throws {
        let (dir, teacher, studentDir) = try makeTeacherAndStudent()
        var n = 0
        #expect(throws: TrainingError.self) {
            _ = try divergingRun(dir, studentDir, teacher: teacher, action: .rollback, maxRollbacks: 1, lrFactor: 1).run(resume: false) { e in
                if case .rollback = e { n += 1 }
                return .proceed
            }
        }
        #expect(n == 1)
    }
}
