// `t2r distill` through the built binary: the student converted from a recipe's student.convert section
// (every option reaching the checkpoint), the progress bar on stderr, and the teacher cache (loss.top_k,
// teacher_cache) read back by a second run with the same numbers.
import CheckpointIO
import Foundation
import TensorCore
import TestSupport
import Testing

@Suite struct DistillCLITests {
    @Test func recipeConvertsTheStudentAndShowsProgress() throws {
        let setup = try DistillSetup(steps: 6, checkpointEvery: 0, preset: "new")
        defer { setup.remove() }
        let student = "\(setup.dir)/from-recipe"
        let r = try T2RBinary.run(setup.args("\(setup.dir)/run", [
            "--set", "student.init=\(student)",
            "--set", #"student.convert={num_slots: 3, gate_logit_normalizer: 4, feature_map: "relu", f_proj_init: "xavier", seed: 5, keep_softmax_layers: [1], dtype: "bf16"}"#,
        ]))
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("converting    \(setup.dir)/teacher → \(student)"), "\(r.stderr)")
        let config = try JSONParser.parse(try readFile("\(student)/config.json"))
        #expect(config["model_type"]?.stringValue == "gsa" && config["num_slots"]?.intValue == 3)
        #expect(config["gate_logit_normalizer"]?.doubleValue == 4 && config["feature_map"]?.stringValue == "relu")
        #expect(config["attn"]?["layers"]?.arrayValue == [.int(1)])
        let options = try JSONParser.parse(try readFile("\(student)/conversion.json"))["options"]
        #expect(options?["seed"]?.intValue == 5 && options?["f_proj_init"]?.stringValue == "xavier" && options?["dtype"]?.stringValue == "BF16")
        #expect(try SafetensorsFile(path: "\(student)/model.safetensors").entries.allSatisfy { $0.dtype == .BF16 })
        // The progress bar: step, tokens/s, loss and lr on every update, the elapsed time at the end.
        let bar = r.stderr.split(separator: "\n").filter { $0.hasPrefix("distill [") }
        #expect(bar.contains { $0.contains("1/6") && $0.contains("tok/s") && $0.contains("ETA") && $0.contains("loss") && $0.contains(" lr ") },
                "\(r.stderr)")
        #expect(bar.last?.contains("6/6") == true && bar.last?.contains(" in ") == true, "\(bar.last ?? "")")
        #expect(r.stdout.contains("finished 6 steps"))
    }

    @Test func teacherCacheIsFilledOnceAndReadBack() throws {
        let setup = try DistillSetup(steps: 5, checkpointEvery: 0, preset: "attention")
        defer { setup.remove() }
        let cache = ["--set", "loss.top_k=6", "--set", "teacher_cache=\(setup.dir)/cache"]
        let first = try T2RBinary.run(setup.args("\(setup.dir)/first", cache))
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("teacher cache: 0 batches read, 5 computed and stored"), "\(first.stderr)")
        let second = try T2RBinary.run(setup.args("\(setup.dir)/second", cache))
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("5 batches stored") && second.stderr.contains("teacher cache: 5 batches read, 0 computed"), "\(second.stderr)")
        func losses(_ run: String) throws -> [String] {
            try metricsLines(run).compactMap { l in l["loss"].map { "\($0) \(l["kl"].map { "\($0)" } ?? "")" } }
        }
        #expect(try losses("\(setup.dir)/first") == (try losses("\(setup.dir)/second")))
        #expect(try losses("\(setup.dir)/first").count == 5)
        // A top_k beyond the vocabulary is a clear error (exit 65).
        let big = try T2RBinary.run(setup.args("\(setup.dir)/big", ["--set", "loss.top_k=100"]))
        #expect(big.status == 65 && big.stderr.contains("loss.top_k = 100 exceeds the vocabulary size 29"), "\(big.stderr)")
    }
}
