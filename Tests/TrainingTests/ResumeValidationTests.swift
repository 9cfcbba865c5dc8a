// --resume refuses checkpoints it cannot continue from exactly, with a clear error instead of a crash or a
// silently different run: other training data, a tampered or damaged trainer_state.json.
import CheckpointIO
import Foundation
import Conversion
import TensorCore
import TestSupport
import Testing
import Training

@Suite struct ResumeValidationTests {
    /// Trains 4 steps with a checkpoint every 2 into `dir/run`; returns a trainer factory over `tokens`.
    func trained(_ tokens: [Int]) throws -> (dir: String, make: ([Int]) throws -> DistillationTrainer) {
        let (dir, teacher, studentDir) = try makeTeacherAndStudent()
        func make(_ data: [Int]) throws -> DistillationTrainer {
            var c = config(.attentionTransfer, dir: dir, studentDir: studentDir, steps: 6, preset: .new)
            c.run.checkpointEvery = 2
            return try DistillationTrainer(config: c, teacher: teacher, student: try StudentCheckpoint.open(studentDir).loadModel { $0.kind == .fProj },
                                           train: data, valid: data, recipeJSON: .object([]), tokenizerSource: nil)
        }
        var n = 0
        _ = try make(tokens).run(resume: false) { e in
            if case .step = e { n += 1 }
            return n >= 4 ? .stop : .proceed
        }
        return (dir, make)
    }

    @Test func otherTrainingDataIsRefused() throws {
        let tokens = randomTokens(1000, vocab: 29, seed: 31)
        let (dir, make) = try trained(tokens)
        #expect(throws: TrainingError.incompatibleResume(path: "\(dir)/run/checkpoints/step-00000004",
                                                         detail: "the checkpoint was trained on 1000 tokens, the recipe's data now has 900: the training data changed")) {
            try make(Array(tokens.prefix(900))).run(resume: true) { _ in .proceed }
        }
        // The same data resumes.
        let s = try make(tokens).run(resume: true) { _ in .proceed }
        #expect(s.steps == 6 && !s.interrupted)
    }

    /// A value edited in trainer_state.json ("" = the file cut in half).
    @Test(arguments: [("cursor", "999999999"), ("epoch", "9223372036854775807"), ("step", "-4"), ("", "")])
    func tamperedTrainerStateIsAClearError(_ edit: (key: String, value: String)) throws {
        let tokens = randomTokens(1000, vocab: 29, seed: 32)
        let (dir, make) = try trained(tokens)
        let state = "\(dir)/run/checkpoints/step-00000004/trainer_state.json"
        let text = try readTextFile(state)
        if edit.key.isEmpty {
            try writeFileAtomically(state, text: String(text.prefix(text.count / 2)))
        } else {
            let json = try JSONParser.parse(text)
            let edited = JSONValue.object(json.objectMembers!.map { $0.0 == edit.key ? ($0.0, .number(edit.value)) : $0 })
            try writeFileAtomically(state, text: edited.serialized())
        }
        do {
            _ = try make(tokens).run(resume: true) { _ in .proceed }
            Issue.record("resumed from a tampered trainer_state.json (\(edit))")
        } catch let e as TrainingError {
            guard case .corruptCheckpoint(let path, _) = e else { Issue.record("\(e)"); return }
            #expect(path == state, "\(e)")
        }
    }
}
