import Conversion
import Models
import TensorCore
import TestSupport
import Testing
import Training

/// student.calibrate_output_scale: g_norm scaled by the least-squares factor before stage 1.
@Suite struct CalibrationTests {
    /// One stage-1 step with learning rate 0 (the weights stay as calibrated): its loss, the factors, the student.
    func firstStep(calibrate: Bool, student: StudentModel? = nil, tag: String, setup: (dir: String, teacher: TeacherModel, studentDir: String))
        throws -> (loss: Double, scales: [Double], student: StudentModel) {
        var c = config(.attentionTransfer, dir: setup.dir, studentDir: setup.studentDir, steps: 1, preset: .attention, lr: 0)
        c.run.output = "\(setup.dir)/\(tag)"
        c.loss.normalizeMSE = true
        c.student.calibrateOutputScale = calibrate
        let model = try student ?? StudentCheckpoint.open(setup.studentDir).loadModel { _ in true }
        let tokens = randomTokens(400, vocab: 29, seed: 11)
        let trainer = try DistillationTrainer(config: c, teacher: setup.teacher, student: model, train: tokens, valid: tokens,
                                              recipeJSON: .object([]), tokenizerSource: nil)
        var scales: [Double] = []
        let s = try trainer.run(resume: false) { event in
            if case let .calibrated(layers, f) = event {
                #expect(layers == [0, 1])
                scales = f
            }
            return .proceed
        }
        return (s.losses[0], scales, model)
    }

    @Test func calibrationFitsTheOutputScaleAndLowersTheFirstLoss() throws {
        let setup = try makeTeacherAndStudent()
        let plain = try firstStep(calibrate: false, tag: "plain", setup: setup)
        #expect(plain.scales.isEmpty)
        let calibrated = try firstStep(calibrate: true, tag: "calibrated", setup: setup)
        #expect(calibrated.scales.count == 2)
        #expect(calibrated.scales.allSatisfy { $0.isFinite && abs($0 - 1) > 1e-3 }, "\(calibrated.scales)")
        // The factor minimises each layer's squared error on the batch the first step trains on.
        #expect(calibrated.loss < plain.loss, "calibrated \(calibrated.loss) vs plain \(plain.loss)")
        // Calibrating the calibrated student again finds nothing left to scale.
        let again = try firstStep(calibrate: true, student: calibrated.student, tag: "again", setup: setup)
        for s in again.scales { #expect(abs(s - 1) < 1e-4, "\(again.scales)") }
        #expect(abs(again.loss - calibrated.loss) <= 1e-6 * calibrated.loss)
    }
}
