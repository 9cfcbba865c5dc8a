import CheckpointIO
import Conversion
import Models
import TensorCore
import TestSupport
import Testing

@Suite struct StudentGoldenTests {
    /// Converts tiny-mistral with the golden's f_proj (as fla's student was made) into a temporary directory.
    static func goldenStudent() throws -> StudentModel {
        let dir = Fixtures.temporaryDirectory()
        var o = ConversionOptions()
        o.initTensors = Fixtures.shared("checkpoints/tiny-mistral/golden.safetensors")
        o.dtype = .f32
        try GSAConverter.convert(teacher: try TeacherCheckpoint.open(Fixtures.shared("checkpoints/tiny-mistral")), to: dir, options: o)
        return try StudentCheckpoint.open(dir).loadModel()
    }

    @Test(.enabled(if: Fixtures.sharedAvailable, Comment(rawValue: Fixtures.sharedMissingReason)))
    func tinyMistralStudentMatchesFla() throws {
        let golden = try SafetensorsFile(path: Fixtures.shared("checkpoints/tiny-mistral/golden.safetensors"))
        let ids = try golden.loadIntegers("input_ids")
        let expected = try golden.loadFloat32("gsa_logits").toArray().map(Double.init)
        let m = try Self.goldenStudent()
        // Chunked form: the whole sequence at once.
        let chunked = m.logits(m.forward(tokens: ids, batch: 1)).toArray().map(Double.init)
        let c1 = compare("gsa_logits (chunked)", chunked, expected, atol: .infinity, rtol: 0)
        #expect(c1.relativeToMax <= 1e-4, "\(c1)")
        // Recurrent form: one token at a time through the state.
        let state = StudentState(config: m.config, batch: 1)
        var recurrent: [Double] = []
        for t in ids { recurrent += m.logits(m.forward(tokens: [t], batch: 1, state: state)).toArray().map(Double.init) }
        let c2 = compare("gsa_logits (recurrent)", recurrent, expected, atol: .infinity, rtol: 0)
        #expect(c2.relativeToMax <= 1e-4, "\(c2)")
        print("tiny-mistral student: \(c1)\n                      \(c2)")
    }
}
