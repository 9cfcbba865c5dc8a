// `t2r generate`: continue a prompt with a teacher (KV cache) or a GSA student (recurrent state),
// streaming the text to stdout as tokens are chosen; statistics go to stderr.
import Conversion
import Models
import TensorCore
import Tokenization
import Training

enum GenerateCommand: Command {
    static let spec = CommandSpec(
        name: "generate",
        abstract: "Generate text from a prompt with a teacher or GSA student, streamed to stdout.",
        options: [
            OptionSpec("model", value: "path", help: "Checkpoint directory or weights file (teacher or GSA student)."),
            OptionSpec("prompt", value: "text", help: "The prompt (special-token text such as <|im_start|> is parsed)."),
            OptionSpec("max-tokens", value: "n", help: "Most tokens to generate.", default: "128"),
            OptionSpec("temperature", value: "t", help: "Sampling temperature; 0 = greedy (argmax).", default: "0.8"),
            OptionSpec("top-p", value: "p", help: "Nucleus sampling mass in (0, 1]; 1 = off.", default: "0.95"),
            OptionSpec("seed", value: "S", help: "Seed of the sampler (same seed → same text).", default: "0"),
            OptionSpec("ignore-eos", help: "Do not stop at end-of-sequence tokens."),
            OptionSpec("no-echo", help: "Print only the generated text, not the prompt before it."),
            OptionSpec("threads", value: "n", help: "Worker threads (BLAS and t2r's own loops).", default: "all cores"),
        ],
        discussion: """
        The prompt is tokenized with the checkpoint's tokenizer (BOS as its configuration says) and fed in one
        forward pass; then one token per step: the teacher appends to its key/value cache, the student updates
        its constant-size recurrent state (plus key/value caches of kept softmax layers). Generation stops at an
        EOS id of the tokenizer or the model config, or after --max-tokens. Text is written as soon as it forms
        complete UTF-8 characters. stderr gets prompt and generated token counts, prefill and decode speed, and
        the per-sequence state or cache size.
        """)

    static func run(_ args: ParsedArguments, _ console: Console) throws -> Int32 {
        let modelPath = try args.required("model")
        let prompt = try args.required("prompt")
        let maxTokens = try args.int("max-tokens", default: 128, min: 0)
        let temperature = try args.double("temperature") ?? 0.8
        guard temperature >= 0 else { throw UsageError(message: "--temperature must be ≥ 0, got \(temperature)", command: spec.name) }
        let topP = try args.double("top-p") ?? 0.95
        guard topP > 0 && topP <= 1 else { throw UsageError(message: "--top-p must be in (0, 1], got \(topP)", command: spec.name) }
        var seed: UInt64 = 0
        if let s = args.string("seed") {
            guard let v = UInt64(s) else { throw UsageError(message: "--seed expects a non-negative integer, got \"\(s)\"", command: spec.name) }
            seed = v
        }
        if let t = try args.int("threads") { ComputeThreads.configure(threads: max(1, t)) }

        let loaded = try LoadedModel.open(modelPath)
        guard let model = loaded.model as? GenerativeLanguageModel else {
            throw UsageError(message: "\(modelPath) (\(loaded.kind)) cannot generate", command: spec.name)
        }
        let tokenizer = try CheckpointTokenizer.load(modelPath)
        let ids = tokenizer.encode(prompt, addSpecialTokens: true, parseSpecial: true)
        guard !ids.isEmpty else {
            throw UsageError(message: "the prompt is empty after tokenization (this tokenizer adds no BOS); give some text", command: spec.name)
        }
        try TokenIDFile.validate(ids, vocabSize: model.vocabSize, file: "--prompt")
        var stops = Set<Int>()
        if !args.flag("ignore-eos") {
            if let e = tokenizer.eosTokenId { stops.insert(e) }
            stops.formUnion(configEOS(loaded.model))
        }
        let options = GenerationOptions(maxNewTokens: maxTokens, sampling: SamplingOptions(temperature: temperature, topP: topP, seed: seed),
                                        stopTokens: stops)

        if !args.flag("no-echo") { console.out(prompt, terminator: "") }
        var stream = StreamingDetokenizer(tokenizer: tokenizer, context: ids)
        let start = monotonicSeconds()
        var firstTokenAt: Double?
        Interrupt.install()
        let result = generate(model: model, prompt: ids, options: options) { id in
            if firstTokenAt == nil { firstTokenAt = monotonicSeconds() }
            let text = stream.append(id)
            if !text.isEmpty { console.out(text, terminator: "") }
            return !Interrupt.isRequested
        }
        let end = monotonicSeconds()
        console.out(stream.finish())

        // Prefill: the prompt's forward pass (and the first draw); decode: every fed generated token.
        let prefillSeconds = (firstTokenAt ?? end) - start
        let decodeSteps = result.positions - result.promptTokens
        let decodeSeconds = end - (firstTokenAt ?? end)
        let stop: String
        switch result.stopReason {
        case .stopToken(let id): stop = "end of sequence (id \(id))"
        case .maxTokens: stop = "--max-tokens reached"
        case .cancelled: stop = "interrupted"
        }
        let stateKind: String
        if loaded.model is TeacherModel {
            stateKind = "KV cache, grows with the context"
        } else if let s = loaded.model as? StudentModel, s.config.hybrid != nil {
            stateKind = "GSA recurrent state + KV cache of the softmax layers"
        } else {
            stateKind = "GSA recurrent state, constant in the context"
        }
        console.err("")
        console.err("model       \(modelPath) (\(loaded.kind))")
        console.err("sampling    " + (temperature == 0 ? "greedy" : "temperature \(Format.sig(temperature, 4)), top-p \(Format.sig(topP, 4)), seed \(seed)"))
        console.err("prompt      \(result.promptTokens) tokens, \(Format.fixed(prefillSeconds, 3)) s (\(Format.fixed(Double(result.promptTokens) / max(prefillSeconds, 1e-9), 1)) tokens/s)")
        console.err("generated   \(result.tokens.count) tokens, \(decodeSteps) decode steps in \(Format.fixed(decodeSeconds, 3)) s"
                    + (decodeSteps > 0 ? " (\(Format.fixed(Double(decodeSteps) / max(decodeSeconds, 1e-9), 1)) tokens/s)" : ""))
        console.err("stopped     \(stop)")
        console.err("state       \(Format.bytes(result.stateBytes)) (\(Format.grouped(result.stateBytes)) bytes) at \(result.positions) positions: \(stateKind)")
        return 0
    }

    /// The EOS ids of the model's config.json (teacher or student).
    static func configEOS(_ model: CausalLanguageModel) -> [Int] {
        if let t = model as? TeacherModel { return t.config.eosTokenIds }
        if let s = model as? StudentModel { return s.config.eosTokenId }
        return []
    }
}
