// Stage 2 against the teacher's top-k logits (loss.top_k) and the on-disk cache of them (teacher_cache):
// a run that reads every batch from the cache computes exactly what the run that wrote it computed, the
// cache refuses another teacher or k and names a damaged file, and k = vocabulary size is the full KL.
import CheckpointIO
import Conversion
import Models
import TensorCore
import TestSupport
import Testing
import Training

@Suite struct TeacherCacheTests {
    @Test func cachedTargetsReproduceTheRunThatWroteThem() throws {
        let (dir, teacher, studentDir) = try makeTeacherAndStudent()
        let tokens = randomTokens(2000, vocab: 29, seed: 11)
        func run(_ name: String, topK: Int, cache: String?, teacher t: TeacherModel? = nil) throws -> (TrainingSummary, DistillationTrainer) {
            var c = config(.endToEnd, dir: dir, studentDir: studentDir, steps: 6, preset: .attention, ce: 0.3)
            c.run.output = "\(dir)/\(name)"
            c.loss.topK = topK
            c.loss.temperature = 1.5
            c.teacherCache = cache
            c.schedule.gradAccumulation = 2
            let trainer = try DistillationTrainer(config: c, teacher: t ?? teacher, student: try StudentCheckpoint.open(studentDir)
                .loadModel(trainable: TrainableSelection.predicate(c.trainable)), train: tokens, valid: tokens, recipeJSON: .object([]),
                                                  tokenizerSource: nil)
            return (try trainer.run(resume: false) { _ in .proceed }, trainer)
        }
        let cache = "\(dir)/cache"
        let (first, t1) = try run("first", topK: 8, cache: cache)
        #expect(t1.teacherCache?.misses == 12 && t1.teacherCache?.hits == 0)
        let files = try FileSystem.listDirectory(cache)
        #expect(files.filter { $0.hasSuffix(".topk") }.count == 12 && files.contains("cache.json"))
        let (second, t2) = try run("second", topK: 8, cache: cache)
        #expect(t2.teacherCache?.hits == 12 && t2.teacherCache?.misses == 0)
        #expect(second.losses == first.losses, "\(second.losses) vs \(first.losses)")
        #expect(try readFile("\(dir)/first/final/model.safetensors") == (try readFile("\(dir)/second/final/model.safetensors")))
        // Without the cache the same top-k targets are computed on the fly: the same numbers.
        let (uncached, _) = try run("uncached", topK: 8, cache: nil)
        #expect(uncached.losses == first.losses)
        // k = vocabulary size: the full KL (another code path, so equal to rounding).
        let (allK, _) = try run("all-k", topK: 29, cache: nil)
        let (full, _) = try run("full", topK: 0, cache: nil)
        for (a, b) in zip(allK.losses, full.losses) { #expect(abs(a - b) <= 1e-5 * abs(b), "\(allK.losses) vs \(full.losses)") }
        #expect(allK.losses != first.losses)

        // Another k or another teacher: refused, naming the directory.
        expectError({ _ = try run("other-k", topK: 4, cache: cache) }) { e in
            "\(e)".contains("\(cache): teacher_cache: it holds the top-8 logits, the recipe asks for loss.top_k = 4")
        }
        try SyntheticCheckpoint.write(to: "\(dir)/teacher2", vocab: 29, hidden: 16, intermediate: 24, layers: 2, heads: 4, kvHeads: 2, seed: 99)
        let other = try TeacherCheckpoint.open("\(dir)/teacher2").loadModel()
        expectError({ _ = try run("other-teacher", topK: 8, cache: cache, teacher: other) }) { e in
            "\(e)".contains("\(cache): teacher_cache: it holds the logits of another teacher")
        }
        // A damaged file is an error naming it; a directory that is not a cache is refused.
        let victim = "\(cache)/" + files.first { $0.hasSuffix(".topk") }!
        var bytes = try readFile(victim)
        bytes.removeLast(4)
        try writeFileAtomically(victim, bytes: bytes)
        expectError({ _ = try run("damaged", topK: 8, cache: cache) }) { e in
            "\(e)".hasPrefix("\(victim): teacher_cache: ") && "\(e)".contains("delete the file")
        }
        try FileSystem.createDirectory("\(dir)/not-a-cache")
        try writeFileAtomically("\(dir)/not-a-cache/notes.txt", text: "mine")
        expectError({ _ = try run("foreign", topK: 8, cache: "\(dir)/not-a-cache") }) { e in
            "\(e)".contains("is not empty and has no cache.json")
        }
        // k above the vocabulary.
        expectError({ _ = try run("too-big", topK: 30, cache: nil) }) { e in "\(e)".contains("loss.top_k = 30 exceeds the vocabulary size 29") }
    }
}

/// `body` throws an error whose description satisfies `check`.
private func expectError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation, _ check: (String) -> Bool) {
    do {
        try body()
        Issue.record("no error", sourceLocation: sourceLocation)
    } catch {
        #expect(check("\(error)"), "\(error)", sourceLocation: sourceLocation)
    }
}
