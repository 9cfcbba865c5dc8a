// `t2r perplexity`: sliding-window perplexity of a teacher or student on a text or token file.
import Conversion
import Corpus
import Tokenization
import Foundation
import Models
import TensorCore
import Training

enum PerplexityCommand: Command {
    static let spec = CommandSpec(
        name: "perplexity",
        abstract: "Sliding-window perplexity of a model on a text or a pre-tokenized file.",
        options: [
            OptionSpec("model", value: "path", help: "Checkpoint directory or weights file (teacher or GSA student)."),
            OptionSpec("text", value: "file", help: "UTF-8 text, tokenized with the model's tokenizer."),
            OptionSpec("tokens", value: "file", help: "Pre-tokenized ids: .u16 or .u32 little-endian."),
            OptionSpec("context", value: "n", help: "Window length in tokens.", default: "512"),
            OptionSpec("stride", value: "n", help: "Window advance in tokens (≤ context).", default: "256"),
            OptionSpec("max-tokens", value: "n", help: "Use only the first n tokens."),
            OptionSpec("threads", value: "n", help: "Worker threads (BLAS and t2r's own loops).", default: "all cores"),
            OptionSpec("json", help: "Print one JSON object."),
        ],
        discussion: """
        Windows follow the transformers guide: each window of `context` tokens advances by `stride` and scores
        the tokens no earlier window scored, except its own first token (no history inside the window); with
        stride == context every window scores context − 1 tokens. PPL = exp(Σ NLL / N); ± is the standard
        error of the mean NLL propagated to PPL (as llama-perplexity prints it). No BOS is inserted.
        """)

    static func run(_ args: ParsedArguments, _ console: Console) throws -> Int32 {
        let modelPath = try args.required("model")
        let context = try args.int("context", default: 512, min: 2)
        let stride = try args.int("stride", default: 256, min: 1)
        if stride > context { throw UsageError(message: "--stride (\(stride)) must not exceed --context (\(context))", command: spec.name) }
        if let t = try args.int("threads") { ComputeThreads.configure(threads: max(1, t)) }
        let text = args.string("text"), tokenPath = args.string("tokens")
        if (text == nil) == (tokenPath == nil) {
            throw UsageError(message: "give exactly one of --text or --tokens", command: spec.name)
        }
        let loaded = try LoadedModel.open(modelPath)
        var tokens: [Int]
        let source: String
        if let tokenPath {
            tokens = try TokenIDFile.read(tokenPath)
            source = tokenPath
        } else {
            tokens = try loaded.tokenize(path: text!)
            source = text!
        }
        if let m = try args.int("max-tokens") { tokens = Array(tokens.prefix(max(0, m))) }
        try TokenIDFile.validate(tokens, vocabSize: loaded.model.vocabSize, file: source)
        guard tokens.count >= 2 else {
            throw UsageError(message: "\(source) has \(tokens.count) tokens; perplexity needs at least 2", command: spec.name)
        }
        let plan = PerplexityPlan(tokenCount: tokens.count, context: context, stride: stride)
        let bar = ProgressBar(console: console, label: "perplexity", total: plan.windows.count, unit: "tok")
        let r = evaluatePerplexity(model: loaded.model, tokens: tokens, plan: plan) { w, scored in
            bar.update(w, rateCount: scored)
        }
        if args.flag("json") {
            console.out(JSONValue.object([
                ("model", .string(modelPath)), ("kind", .string(loaded.kind)), ("source", .string(source)),
                ("ppl", .double(r.perplexity)), ("mean_nll", .double(r.meanNLL)),
                ("stderr", .double(r.perplexityStandardError)), ("mean_nll_stderr", .double(r.meanNLLStandardError)),
                ("tokens", .int(tokens.count)), ("tokens_scored", .int(r.tokensScored)), ("sum_nll", .double(r.sumNLL)),
                ("windows", .int(plan.windows.count)), ("context", .int(context)), ("stride", .int(stride)),
                ("bos", .string("none inserted")), ("seconds", .double(r.seconds)),
                ("tokens_per_second", .double(r.tokensPerSecond)),
            ]).serialized(indent: 2))
        } else {
            console.out("model         \(modelPath) (\(loaded.kind))")
            console.out("tokens        \(tokens.count) from \(source); \(plan.windows.count) windows, context \(context), stride \(stride), no BOS inserted")
            console.out("scored        \(r.tokensScored) tokens, Σ NLL \(Format.fixed(r.sumNLL, 3)) nats")
            console.out("mean NLL      \(Format.fixed(r.meanNLL, 6)) ± \(Format.fixed(r.meanNLLStandardError, 6))")
            console.out("perplexity    \(Format.sig(r.perplexity, 7)) ± \(Format.sig(r.perplexityStandardError, 4))")
            console.out("speed         \(Format.fixed(r.tokensPerSecond, 1)) tokens/s (\(Format.fixed(r.seconds, 2)) s)")
        }
        return 0
    }
}
