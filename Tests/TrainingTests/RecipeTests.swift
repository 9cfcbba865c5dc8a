import Foundation
import Recipes
import TensorCore
import TestSupport
import Testing
import Training

@Suite struct RecipeTests {
    @Test func everyShippedRecipeDecodes() throws {
        var count = 0
        for model in try FileSystem.listDirectory(Fixtures.repo("recipes")) where FileSystem.isDirectory(Fixtures.repo("recipes/\(model)")) {
            for f in try FileSystem.listDirectory(Fixtures.repo("recipes/\(model)")) where f.hasSuffix(".json5") {
                let path = Fixtures.repo("recipes/\(model)/\(f)")
                let text = try readTextFile(path)
                #expect(text.hasPrefix("//"), "\(path) must start with a comment saying what it does")
                #expect(text.contains("t2r distill recipes/\(model)/\(f)"), "\(path) must give its exact command")
                let c = try Recipe.load(path)
                #expect(c.run.output.hasPrefix("runs/"), "\(path): run.output")
                #expect(!c.teacher.hasPrefix("/") && !c.student.initPath.hasPrefix("/"), "\(path): no absolute paths")
                count += 1
            }
        }
        #expect(count >= 4)
    }

    private func decode(_ text: String, set: [String] = []) throws -> TrainingConfig {
        try Recipe.decode(try RecipeDocument.applyOverrides(try RecipeDocument.parse(text, file: "r.json5"), set, file: "r.json5"), file: "r.json5")
    }

    private let minimal = """
    // comment
    { stage: 'end_to_end', teacher: "t", student: { init: "s", },
      data: { train: ["a.u16"] }, run: { output: "runs/x", seed: 3 }, /* trailing */ }
    """

    /// A number that ends the JSON5 text (a `--set` value, a fuzzed recipe) is read exactly, not past the
    /// end of the buffer (Foundation's JSON5 scanner needs a terminator after it; RecipeDocument.parse).
    @Test func numberEndingTheTextIsReadExactly() throws {
        for digits in [1, 17, 25, 100] {
            let text = String(repeating: "7", count: digits)
            #expect(try RecipeDocument.parse(text, file: "t") == .double(Double(text)!), "\(digits) digits")
        }
        let doc = try RecipeDocument.applyOverrides(.object([]), ["optimizer.lr=0.000123456789012345678"], file: "t")
        #expect(doc["optimizer"]?["lr"]?.doubleValue == 0.000123456789012345678)
    }

    @Test func json5DefaultsAndOverrides() throws {
        let c = try decode(minimal)
        #expect(c.stage == .endToEnd && c.run.seed == 3 && c.optimizer.lr == 1e-3 && c.data.seqLen == 512)
        let o = try decode(minimal, set: ["optimizer.lr=2.5e-4", "run.output=runs/y", "data.valid=[\"v.u16\"]", "eval.every=7",
                                          "trainable.preset=\"all\""])
        #expect(o.optimizer.lr == 2.5e-4 && o.run.output == "runs/y" && o.data.valid == ["v.u16"] && o.eval.every == 7 && o.trainable.preset == .all)
        // The resolved recipe decodes back to the same configuration.
        let again = try Recipe.decode(Recipe.resolvedJSON(o), file: "resolved")
        #expect(again == o)
    }

    @Test(arguments: [
        ("optimzer.lr=1", "optimzer", "did you mean `optimizer`?"),
        ("optimizer.lrr=1", "optimizer.lrr", "did you mean `optimizer.lr`?"),
        ("optimizer.lr=\"fast\"", "optimizer.lr", "expected a number"),
        ("optimizer.lr=-1", "optimizer.lr", "must be greater than 0"),
        ("schedule.steps=2.5", "schedule.steps", "expected an integer"),
        ("trainable.preset=\"most\"", "trainable.preset", "is not one of \"new\", \"attention\", \"lora\", \"all\""),
        ("stage=\"stage3\"", "stage", "is not one of"),
        ("run.seed=-2", "run.seed", "expected a non-negative integer"),
        ("loss.kl=0", "loss", "both 0"),
        ("student.calibrate_output_scale=1", "student.calibrate_output_scale", "expected true or false"),
        ("student.calibrate_output_scale=true", "student.calibrate_output_scale", "applies to stage \"attention_transfer\" only"),
        ("loss.top_k=-1", "loss.top_k", "must be at least 0, found -1"),
        ("stage=\"attention_transfer\"\u{1F}loss.top_k=8", "loss.top_k", "applies to the KL term of stage \"end_to_end\" only"),
        ("teacher_cache=\"runs/cache\"", "teacher_cache", "needs loss.top_k > 0"),
        ("teacher_cache=3", "teacher_cache", "expected a string"),
    ])
    func badValuesNameTheKey(_ set: String, _ key: String, _ fragment: String) {
        do {
            _ = try decode(minimal, set: set.split(separator: "\u{1F}").map(String.init))
            Issue.record("accepted \(set)")
        } catch let e as RecipeError {
            #expect(e.key == key, "\(e)")
            #expect(e.description.contains(fragment), "\(e)")
            #expect(e.description.hasPrefix("r.json5"), "\(e)")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func topKAndTeacherCache() throws {
        let c = try decode(minimal, set: ["loss.top_k=64", "teacher_cache=\"runs/cache\""])
        #expect(c.loss.topK == 64 && c.teacherCache == "runs/cache")
        #expect(try Recipe.decode(Recipe.resolvedJSON(c), file: "resolved") == c)
        // Unset, neither appears in the resolved recipe (recipes saved before they existed still resume).
        let plain = Recipe.resolvedJSON(try decode(minimal))
        #expect(plain["teacher_cache"] == nil && plain["loss"]?["top_k"] == nil)
    }

    @Test func missingRequiredKeysAndSyntaxErrors() {
        #expect(throws: RecipeError(file: "r.json5", key: "run.seed", problem: "missing (required)")) {
            try decode("{ stage: 'end_to_end', teacher: 't', student: { init: 's' }, data: { train: ['a'] }, run: { output: 'o' } }")
        }
        let full = "{ stage: 'end_to_end', teacher: 't', student: { init: 's' }, data: { train: ['a'] }, run: { output: 'o', seed: 1 } }"
        #expect(throws: Never.self) { try decode(full) }
        for (key, cut) in [("teacher", "teacher: 't', "), ("student.init", "init: 's' "), ("run.output", "output: 'o', "),
                           ("data.train", "train: ['a'] "), ("stage", "stage: 'end_to_end', ")] {
            do {
                _ = try decode(full.replacingOccurrences(of: cut, with: ""))
                Issue.record("accepted a recipe without \(key)")
            } catch let e as RecipeError {
                #expect(e.key == key && e.description.contains("missing"), "\(e)")
            } catch { Issue.record("\(error)") }
        }
        #expect(throws: RecipeError.self) { try decode("{ stage: 'end_to_end', ") }
        #expect(throws: RecipeError.self) { try decode("[1, 2]") }
    }
}
