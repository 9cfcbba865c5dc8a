// `t2r distill RECIPE`: one distillation stage as a recipe describes it.
import CheckpointIO
import Conversion
import Corpus
import Tokenization
import Foundation
import Models
import Recipes
import TensorCore
import Training

enum DistillCommand: Command {
    static let spec = CommandSpec(
        name: "distill",
        abstract: "Run one distillation stage (attention transfer or end-to-end KL + CE) from a JSON5 recipe.",
        positionals: [PositionalSpec("recipe", help: "A recipe file, e.g. recipes/tiny-mistral/stage1.json5.")],
        options: [
            OptionSpec("set", value: "key.path=value", help: "Override a recipe value (parsed as a JSON5 literal).", repeatable: true),
            OptionSpec("resume", help: "Continue from the newest checkpoint in run.output."),
            OptionSpec("dry-run", help: "Check the recipe, the models and the data, print the plan, and stop."),
        ],
        discussion: """
        The run directory (run.output) receives checkpoints/ (every run.checkpoint_every steps and at the end),
        metrics.jsonl (one JSON object per step and evaluation), recipe.json (the resolved recipe) and final/
        (the student in fla layout). Ctrl-C (SIGINT) or SIGTERM stops after writing a checkpoint; --resume continues
        bit-identically, also after a crash or SIGKILL (it starts from the newest complete checkpoint).
        """)

    static func run(_ args: ParsedArguments, _ console: Console) throws -> Int32 {
        let recipePath = args.positionals[0]
        let config = try Recipe.load(recipePath, overrides: args.strings("set"))
        if config.run.threads > 0 { ComputeThreads.configure(threads: config.run.threads) }
        console.err("recipe        \(recipePath) (stage \(config.stage.rawValue))")

        let teacherCkpt = try TeacherCheckpoint.open(config.teacher)
        let teacher = try teacherCkpt.loadModel()
        console.err("teacher       \(config.teacher) (\(teacherCkpt.config.family.rawValue), \(teacherCkpt.format.rawValue))")

        if !FileSystem.exists(config.student.initPath) {
            guard let convert = config.student.convert else {
                throw RecipeError(file: recipePath, key: "student.init", problem: "\(config.student.initPath) does not exist and the recipe has no student.convert section to create it")
            }
            console.err("converting    \(config.teacher) → \(config.student.initPath)")
            try GSAConverter.convert(teacher: teacherCkpt, to: config.student.initPath, options: convert)
        }
        let studentCkpt = try StudentCheckpoint.open(config.student.initPath)
        let student = try studentCkpt.loadModel(trainable: TrainableSelection.predicate(config.trainable))
        console.err("student       \(config.student.initPath): \(Format.grouped(student.params.trainableCount)) of "
            + "\(Format.grouped(student.params.parameterCount)) parameters trainable (preset \(config.trainable.preset.rawValue))")

        let tokenizer = try LoadedTokenizer(path: config.teacher)
        var train = try DataFiles.tokens(config.data.train, tokenizer: tokenizer, key: "data.train", recipe: recipePath)
        if config.data.maxTrainTokens > 0 { train = Array(train.prefix(config.data.maxTrainTokens)) }
        let valid = try DataFiles.tokens(config.data.valid, tokenizer: tokenizer, key: "data.valid", recipe: recipePath)
        try TokenIDFile.validate(train, vocabSize: student.vocabSize, file: "data.train")
        try TokenIDFile.validate(valid, vocabSize: student.vocabSize, file: "data.valid")
        console.err("data          \(Format.grouped(train.count)) training tokens, \(Format.grouped(valid.count)) held-out tokens; "
            + "\(config.data.batchSize)×\(config.data.seqLen) per micro-batch × \(config.schedule.gradAccumulation) = "
            + "\(Format.grouped(config.tokensPerStep)) tokens per step, \(config.schedule.steps) steps")
        if args.flag("dry-run") {
            console.out(Recipe.resolvedJSON(config).serialized(indent: 2))
            return 0
        }

        let trainer = try DistillationTrainer(config: config, teacher: teacher, student: student, train: train, valid: valid,
                                              recipeJSON: Recipe.resolvedJSON(config), tokenizerSource: studentCkpt.directory)
        if let cache = trainer.teacherCache {
            let stored = try FileSystem.listDirectory(cache.directory).filter { $0.hasSuffix(".topk") }.count
            console.err("teacher cache \(cache.directory): the teacher's top-\(cache.k) logits per micro-batch, "
                + "\(Format.grouped(stored)) batches stored (fingerprint \(String(cache.fingerprint, radix: 16)))")
        }
        Interrupt.install()
        var bar: ProgressBar?
        let summary = try trainer.run(resume: args.flag("resume")) { event in
            switch event {
            case let .started(start, total, _, _):
                bar = ProgressBar(console: console, label: "distill", total: total, unit: "tok")
                if start > 0 { console.err("resuming at step \(start) of \(total)") }
            case let .step(r):
                let parts = r.components.filter { !$0.0.contains(".") }.map { "\($0.0) \(Format.sig($0.1, 4))" }.joined(separator: " ")
                bar?.update(r.step, rateCount: Int(r.tokensPerSecond * max(r.elapsedSeconds, 1e-9)),
                            extra: "loss \(Format.sig(r.loss, 5)) (\(parts)) lr \(Format.sig(r.learningRate, 3))")
            case let .evaluation(step, m):
                console.err("eval @ \(step): " + m.map { "\($0.0) \(Format.sig($0.1, 5))" }.joined(separator: ", "))
            case let .checkpoint(step, path):
                console.err("checkpoint @ \(step): \(path)")
            case let .calibrated(_, scales):
                let sorted = scales.sorted()
                console.err("calibrated   g_norm of \(scales.count) GSA layers to the teacher's output scale on the first batch: "
                    + "factors \(Format.sig(sorted.first ?? 1, 3))…\(Format.sig(sorted.last ?? 1, 3)) (median \(Format.sig(sorted.isEmpty ? 1 : sorted[sorted.count / 2], 3)))")
            case let .rollback(from, to, reason, scale):
                console.err("rollback @ \(from): \(reason); back to the checkpoint of step \(to), learning rate × \(Format.sig(scale, 3))")
            case let .finished(path):
                console.err("final student: \(path)")
            }
            return Interrupt.isRequested ? .stop : .proceed
        }
        if summary.interrupted {
            console.out("interrupted at step \(summary.steps); resume with: t2r distill \(recipePath) --resume")
            return 130
        }
        if let cache = trainer.teacherCache {
            console.err("teacher cache: \(Format.grouped(cache.hits)) batches read, \(Format.grouped(cache.misses)) computed and stored")
        }
        console.out("finished \(summary.steps) steps; student in \(summary.finalDirectory ?? "?"), metrics in \(config.run.output)/metrics.jsonl")
        return 0
    }
}

/// Training data from a recipe: token files read as they are, text files tokenized with the teacher's
/// tokenizer; '*' in a file name expands (sorted).
enum DataFiles {
    static func expand(_ pattern: String) throws -> [String] {
        guard pattern.contains("*") else { return [pattern] }
        let dir = FileSystem.directoryName(pattern), base = FileSystem.baseName(pattern)
        return try FileSystem.listDirectory(dir).filter { TrainableSelection.globMatch(base, $0) }.map { FileSystem.join(dir, $0) }
    }

    static func tokens(_ patterns: [String], tokenizer: LoadedTokenizer, key: String, recipe: String) throws -> [Int] {
        var out: [Int] = []
        for p in patterns {
            let files = try expand(p)
            if files.isEmpty { throw RecipeError(file: recipe, key: key, problem: "\(p) matches no file") }
            for f in files {
                guard FileSystem.exists(f) else { throw RecipeError(file: recipe, key: key, problem: "\(f) does not exist") }
                if f.hasSuffix(".u16") || f.hasSuffix(".u32") { out += try TokenIDFile.read(f) } else { out += try tokenizer.encodeFile(f) }
            }
        }
        return out
    }
}
