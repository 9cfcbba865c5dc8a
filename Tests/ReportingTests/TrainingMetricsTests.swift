import Conversion
import Reporting
import TensorCore
import TestSupport
import Testing
import Training

@Suite struct TrainingMetricsTests {
    func write(_ text: String, dir name: String = "stage2") throws -> String {
        let dir = FileSystem.join(Fixtures.temporaryDirectory("t2r-metrics"), name)
        try FileSystem.createDirectory(dir)
        try writeFileAtomically(FileSystem.join(dir, "metrics.jsonl"), text: text)
        return dir
    }

    @Test func readsStepsComponentsAndEvaluations() throws {
        let dir = try write("""
        {"step":1,"loss":3.5,"kl":3.0,"ce":5.0,"lr":0.0001,"grad_norm":2.0,"tokens":1024,"tokens_per_second":900,"elapsed_seconds":1.1}
        {"step":2,"loss":3.0,"kl":2.5,"ce":5.0,"lr":0.0002,"grad_norm":1.5,"tokens":2048,"tokens_per_second":910,"elapsed_seconds":2.2}

        {"step":2,"eval":{"valid_nll":4.1,"valid_ppl":60.3}}
        {"step":3,"loss":2.0,"kl":1.5,"ce":null,"lr":0.0003,"grad_norm":1.0,"tokens":3072,"tokens_per_second":920,"elapsed_seconds":3.3}
        """)
        for path in [dir, FileSystem.join(dir, "metrics.jsonl")] {
            let c = try TrainingCurves.read(path)
            #expect(c.name == "stage2")
            #expect(c.losses.map(\.name) == ["loss", "kl", "ce"])
            #expect(c.losses[0].steps == [1, 2, 3] && c.losses[0].values == [3.5, 3.0, 2.0])
            #expect(c.losses[2].steps == [1, 2], "a null component is left out")
            #expect(c.evaluations.map(\.name) == ["valid_nll", "valid_ppl"] && c.evaluations[1].values == [60.3])
            #expect(c.elapsedSeconds == 3.3)
        }
    }

    /// Event lines (the calibration before step 1, a rollback) are not steps; per-layer parts are not curves.
    @Test func eventsAndPerLayerPartsAreNotCurves() throws {
        let dir = try write("""
        {"step":0,"calibration":{"g_norm_scale.layer0":0.1,"g_norm_scale.layer1":0.2}}
        {"step":1,"loss":0.5,"mse":0.5,"mse.layer0":0.4,"mse.layer1":0.6,"lr":0.001,"elapsed_seconds":1.0}
        {"step":1,"rollback":{"from_step":2,"reason":"the loss is not finite","rollbacks":1,"learning_rate_scale":0.5}}
        {"step":2,"loss":0.25,"mse":0.25,"mse.layer0":0.2,"mse.layer1":0.3,"lr":0.001,"elapsed_seconds":2.0}
        """)
        let c = try TrainingCurves.read(dir)
        #expect(c.losses.map(\.name) == ["loss", "mse"])
        #expect(c.losses[0].steps == [1, 2] && c.losses[0].values == [0.5, 0.25])
    }

    @Test func aResumedRunsLaterLinesWin() throws {
        // Checkpoint at step 2, interrupted after step 3, resumed from step 2.
        let dir = try write("""
        {"step":1,"loss":4}
        {"step":2,"loss":3}
        {"step":3,"loss":2.9}
        {"step":3,"loss":2.5}
        {"step":4,"loss":2}
        """)
        let c = try TrainingCurves.read(dir)
        #expect(c.losses[0].steps == [1, 2, 3, 4] && c.losses[0].values == [4, 3, 2.5, 2])
    }

    @Test func malformedLinesNameTheFileAndLine() throws {
        for (text, needle) in [("{\"step\":1,\"loss\":2}\n{\"step\":2,\"loss\":", "line 2"),
                               ("[1, 2]\n", "expected a JSON object"),
                               ("{\"loss\":2}\n", "\"step\""),
                               ("{\"step\":1,\"loss\":\"high\"}\n", "\"loss\" must be a number"),
                               ("{\"step\":1,\"eval\":3}\n", "\"eval\" must be an object"),
                               ("", "has no training steps")] {
            let dir = try write(text)
            do {
                _ = try TrainingCurves.read(dir)
                Issue.record("accepted \(text)")
            } catch let e as KeyedInputError {
                #expect(e.category == .badInput && e.file.hasSuffix("metrics.jsonl") && e.description.contains(needle), "\(e)")
            }
        }
        #expect(throws: KeyedInputError.self) { try TrainingCurves.read("/nonexistent/run") }
    }

    @Test func readsWhatTheTrainerWrites() throws {
        let (teacher, _, dir) = try makePair()
        var c = TrainingConfig(stage: .endToEnd, teacher: "\(dir)/teacher", student: .init(initPath: "\(dir)/student"),
                               run: .init(output: "\(dir)/run"))
        c.data.seqLen = 16
        c.data.batchSize = 1
        c.loss.kl = 1
        c.loss.ce = 0.5
        c.schedule.steps = 3
        c.schedule.warmupSteps = 1
        c.eval.tokens = 40
        let ids = tokens(400, vocab: 41, seed: 11)
        let student = try StudentCheckpoint.open("\(dir)/student").loadModel(trainable: TrainableSelection.predicate(c.trainable))
        let trainer = try DistillationTrainer(config: c, teacher: teacher, student: student, train: ids, valid: ids,
                                              recipeJSON: .object([]), tokenizerSource: nil)
        let summary = try trainer.run(resume: false) { _ in .proceed }
        let curves = try TrainingCurves.read("\(dir)/run")
        #expect(curves.name == "run")
        #expect(curves.losses.first?.name == "loss" && curves.losses.first?.values == summary.losses)
        #expect(curves.losses.first?.steps == [1, 2, 3])
        #expect(Set(curves.losses.map(\.name)).isSuperset(of: ["kl", "ce"]))
        #expect(curves.evaluations.contains { $0.name == "valid_ppl" && $0.steps == [3] })
        #expect(curves.elapsedSeconds != nil)
    }
}
