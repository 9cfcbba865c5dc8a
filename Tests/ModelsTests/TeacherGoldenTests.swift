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

@Suite struct SmolLM2GoldenTests {
    static let enabled = Fixtures.sharedAvailable && Fixtures.smollm2Available
    static let reason = Comment(rawValue: "\(Fixtures.sharedMissingReason); or \(Fixtures.smollm2MissingReason)")

    @Test(.enabled(if: enabled, reason))
    func logitsAndPromptMatchTheFloat64Reference() throws {
        let golden = try SafetensorsFile(path: Fixtures.shared("checkpoints/smollm2-golden/golden.safetensors"))
        let model = try TeacherCheckpoint.open(Fixtures.smollm2GGUF).loadModel()
        let ids = try golden.loadIntegers("input_ids")
        let expected = try golden.loadFloat32("logits").toArray().map(Double.init)
        let logits = model.logits(model.forward(tokens: ids, batch: 1)).toArray().map(Double.init)
        let c = compare("SmolLM2 logits", logits, expected, atol: .infinity, rtol: 0)
        #expect(c.relativeToMax <= 1e-4, "\(c)")
        print("SmolLM2 teacher logits: \(c)")
        // "The capital of France is" → " Paris".
        let prompt = try JSONParser.parse(golden.metadata["prompt"]!)
        let pids = prompt["ids"]!.arrayValue!.map { $0.intValue! }
        #expect(pids == [504, 3575, 282, 4649, 314])
        let last = model.logits(model.forward(tokens: pids, batch: 1)).rows(4..<5).toArray()
        let top5 = last.indices.sorted { last[$0] > last[$1] }.prefix(5)
        #expect(Array(top5) == prompt["top5_ids"]!.arrayValue!.map { $0.intValue! })
        #expect(top5.first == 7042)
        let expectedTop = prompt["top5_logits"]!.arrayValue!.map { $0.doubleValue! }
        expectClose("top-5 logits", top5.map { Double(last[$0]) }, expectedTop, atol: 2e-3, rtol: 1e-4)
    }
}
