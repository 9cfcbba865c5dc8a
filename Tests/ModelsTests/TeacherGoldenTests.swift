import CheckpointIO
import Conversion
import Models
import TensorCore
import TestSupport
import Testing

@Suite struct TeacherGoldenTests {
    @Test(.enabled(if: Fixtures.sharedAvailable, Comment(rawValue: Fixtures.sharedMissingReason)))
    func tinyMistralLogitsMatchTransformers() throws {
        let golden = try SafetensorsFile(path: Fixtures.shared("checkpoints/tiny-mistral/golden.safetensors"))
        let ids = try golden.loadIntegers("input_ids")
        let expected = try golden.loadFloat32("teacher_logits")
        let model = try TeacherCheckpoint.open(Fixtures.shared("checkpoints/tiny-mistral")).loadModel()
        let hidden = model.forward(tokens: ids, batch: 1)
        let logits = model.logits(hidden)
        #expect(logits.shape == expected.shape)
        let c = compare("teacher_logits", logits.toArray().map(Double.init), expected.toArray().map(Double.init), atol: .infinity, rtol: 0)
        #expect(c.relativeToMax <= 1e-4, "\(c)")
        print("tiny-mistral teacher logits: \(c)")
    }
}
