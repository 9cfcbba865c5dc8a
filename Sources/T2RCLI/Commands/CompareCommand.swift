// `t2r compare`: a teacher and a student on the same texts: perplexity of each (± standard error) and
// their ratio, KL(teacher ‖ student), top-1 agreement, all by position in the window; decode speed and
// state memory at several context lengths; optionally the loss curves of the training runs. Prints a
// table; with --out writes report.md, compare.json and SVG plots.
import Conversion
import Foundation
import Models
import Reporting
import TensorCore
import Tokenization
import Training

enum CompareCommand: Command {
    static let spec = CommandSpec(
        name: "compare",
        abstract: "Compare a student with its teacher: perplexity, KL, top-1 agreement, decode speed and memory; report and plots.",
        options: [
            OptionSpec("teacher", value: "path", help: "Teacher checkpoint (HF directory, .safetensors, .h5 or .gguf); its tokenizer reads the texts."),
            OptionSpec("student", value: "path", help: "Student directory (or any model t2r reads, e.g. the teacher itself)."),
            OptionSpec("text", value: "file", help: "UTF-8 text to evaluate on.", repeatable: true),
            OptionSpec("context", value: "n", help: "Window length in tokens.", default: "512"),
            OptionSpec("stride", value: "n", help: "Window advance in tokens (≤ context).", default: "the context"),
            OptionSpec("max-tokens", value: "n", help: "Use only the first n tokens of each text."),
            OptionSpec("decode-contexts", value: "n,n,…|none", help: "Context lengths at which to time decoding.", default: "128,512,2048"),
            OptionSpec("decode-tokens", value: "n", help: "Timed decode steps per context length.", default: "16"),
            OptionSpec("metrics", value: "run", help: "A training run directory or its metrics.jsonl, for loss plots.", repeatable: true),
            OptionSpec("out", value: "dir", help: "Write report.md, compare.json and SVG plots here."),
            OptionSpec("threads", value: "n", help: "Worker threads (BLAS and t2r's own loops).", default: "all cores"),
            OptionSpec("json", help: "Print compare.json to stdout instead of the tables."),
        ],
        discussion: """
        Both models score the same sliding windows (as `t2r perplexity` does, no BOS inserted); the default stride equals
        the context so that every window scores positions 1 … context − 1 and the position breakdown covers each range
        equally. KL is computed between the full next-token distributions, block by block. Decoding: each model reads
        the first text up to each context length, then decodes --decode-tokens tokens one at a time (teacher: KV cache;
        student: recurrent state); the median step time is reported, with the state's size.
        """)

    static func run(_ args: ParsedArguments, _ console: Console) throws -> Int32 {
        let teacherPath = try args.required("teacher"), studentPath = try args.required("student")
        let textPaths = args.strings("text")
        guard !textPaths.isEmpty else { throw UsageError(message: "give at least one --text file", command: spec.name) }
        let context = try args.int("context", default: 512, min: 2)
        let stride = try args.int("stride", default: context, min: 1)
        if stride > context { throw UsageError(message: "--stride (\(stride)) must not exceed --context (\(context))", command: spec.name) }
        let maxTokens = try args.int("max-tokens")
        if let m = maxTokens, m < 2 { throw UsageError(message: "--max-tokens must be at least 2, got \(m)", command: spec.name) }
        let decodeContexts = try parseContexts(args.string("decode-contexts") ?? "128,512,2048")
        let decodeSteps = try args.int("decode-tokens", default: 16, min: 1)
        if let t = try args.int("threads") { ComputeThreads.configure(threads: max(1, t)) }
        // Read the metrics first: a typo there should not cost a whole evaluation.
        let runs = try args.strings("metrics").map(TrainingCurves.read)

        let teacherLoaded = try LoadedModel.open(teacherPath), studentLoaded = try LoadedModel.open(studentPath)
        guard let teacher = teacherLoaded.model as? ComparableModel, let student = studentLoaded.model as? ComparableModel else {
            throw ComparisonError("\(teacherPath) or \(studentPath) is not a model t2r can compare")
        }
        console.err("teacher       \(teacherPath) (\(teacherLoaded.kind))")
        console.err("student       \(studentPath) (\(studentLoaded.kind))")
        let tokenizer = try LoadedTokenizer(path: teacherPath)
        if let studentTokenizer = try? CheckpointTokenizer.load(studentPath) {
            try ModelComparison.checkSameVocabulary(teacher: tokenizer.tokenizer, student: studentTokenizer,
                                                    teacherPath: teacherPath, studentPath: studentPath)
        }

        var inputs: [(path: String, tokens: [Int])] = []
        for path in textPaths {
            var tokens = try tokenizer.encodeFile(path)
            if let m = maxTokens { tokens = Array(tokens.prefix(m)) }
            guard tokens.count >= 2 else {
                throw UsageError(message: "\(path) has \(tokens.count) tokens; a comparison needs at least 2", command: spec.name)
            }
            inputs.append((path, tokens))
        }
        let plans = inputs.map { PerplexityPlan(tokenCount: $0.tokens.count, context: context, stride: stride) }
        let bar = ProgressBar(console: console, label: "comparing", total: plans.reduce(0) { $0 + $1.windows.count }, unit: "tok")
        var texts: [TextComparison] = []
        var windowsBefore = 0, tokensBefore = 0
        for (input, plan) in zip(inputs, plans) {
            let scores = try ModelComparison.score(teacher: teacher, student: student, tokens: input.tokens, plan: plan) { w, n in
                bar.update(windowsBefore + w, rateCount: tokensBefore + n)
            }
            windowsBefore += plan.windows.count
            tokensBefore += scores.count
            texts.append(TextComparison(path: input.path, tokens: input.tokens.count, scores: scores))
        }

        var report = ComparisonReport(teacher: ReportedModel(path: teacherPath, kind: teacherLoaded.kind),
                                      student: ReportedModel(path: studentPath, kind: studentLoaded.kind),
                                      context: context, stride: stride, maxTokens: maxTokens, texts: texts)
        report.threads = ComputeThreads.count
        report.runs = runs
        report.memory = MemoryPoint.sweep(teacher: teacher, student: student, upTo: max(32768, decodeContexts.last ?? 0))
        if !decodeContexts.isEmpty {
            report.decodeSteps = decodeSteps
            let decodeTokens = try tokenizer.encodeFile(inputs[0].path)
            for (name, model) in [("teacher", teacher), ("student", student)] {
                let b = ProgressBar(console: console, label: "decode \(name)", total: decodeContexts.count, unit: "lengths")
                let points = DecodeBenchmark.run(model: model, tokens: decodeTokens, contexts: decodeContexts, steps: decodeSteps) { b.update($0) }
                if name == "teacher" { report.teacherDecode = points } else { report.studentDecode = points }
            }
        }

        if args.flag("json") {
            console.out(report.json().serialized(indent: 2))
        } else {
            console.out(report.terminalSummary(), terminator: "")
        }
        if let out = args.string("out") {
            let files = try report.write(to: out)
            console.err("wrote \(files.count) files to \(out): " + files.map(FileSystem.baseName).joined(separator: ", "))
        }
        return 0
    }

    /// "128,512,2048" → [128, 512, 2048] (sorted, distinct); "none" → [].
    static func parseContexts(_ s: String) throws -> [Int] {
        if s == "none" || s.isEmpty { return [] }
        let values = try s.split(separator: ",").map { part -> Int in
            guard let v = Int(part.trimmingCharacters(in: .whitespaces)), v >= 1 else {
                throw UsageError(message: "--decode-contexts expects comma-separated positive integers or 'none', got \"\(s)\"", command: spec.name)
            }
            return v
        }
        return Array(Set(values)).sorted()
    }
}
