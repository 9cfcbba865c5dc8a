// `t2r logits`: the logits of a token sequence under a teacher or GSA student, written as safetensors
// (`input_ids` [T] I64, `logits` [T, V] F32), for comparing t2r with other implementations (transformers,
// fla; see tools/fla/check_fla_student.py).
import CheckpointIO
import Models
import TensorCore
import Tokenization

enum LogitsCommand: Command {
    static let spec = CommandSpec(
        name: "logits",
        abstract: "Write a model's logits for a token sequence to a safetensors file.",
        options: [
            OptionSpec("model", value: "path", help: "Checkpoint directory or weights file (teacher or GSA student)."),
            OptionSpec("tokens", value: "file", help: "Token ids: .u16 or .u32 little-endian."),
            OptionSpec("max-tokens", value: "n", help: "Use only the first n ids."),
            OptionSpec("out", value: "file", help: "Output .safetensors: input_ids [T] I64 and logits [T, V] F32."),
            OptionSpec("threads", value: "n", help: "Worker threads (BLAS and t2r's own loops).", default: "all cores"),
        ],
        discussion: """
        The ids are one sequence from position 0 (nothing is inserted); row t of the logits predicts id t + 1.
        The student runs its chunked (parallel) form, the teacher its full causal attention.
        """)

    /// The largest logits tensor written (T × V × 4 bytes).
    static let maxOutputBytes = 4 << 30

    static func run(_ args: ParsedArguments, _ console: Console) throws -> Int32 {
        let modelPath = try args.required("model"), tokenPath = try args.required("tokens"), out = try args.required("out")
        guard out.hasSuffix(".safetensors") else { throw UsageError(message: "--out must end in .safetensors, got \"\(out)\"", command: spec.name) }
        if let t = try args.int("threads") { ComputeThreads.configure(threads: max(1, t)) }
        var ids = try TokenIDFile.read(tokenPath)
        if let m = try args.int("max-tokens") { ids = Array(ids.prefix(max(0, m))) }
        guard !ids.isEmpty else { throw UsageError(message: "\(tokenPath) gives no ids", command: spec.name) }
        let loaded = try LoadedModel.open(modelPath)
        guard let model = loaded.model as? GenerativeLanguageModel else {
            throw UsageError(message: "\(modelPath) (\(loaded.kind)) has no logits", command: spec.name)
        }
        try TokenIDFile.validate(ids, vocabSize: model.vocabSize, file: tokenPath)
        let bytes = ids.count * model.vocabSize * 4
        guard bytes <= maxOutputBytes else {
            throw UsageError(message: "\(ids.count) ids × \(model.vocabSize) logits need \(Format.bytes(bytes)); use --max-tokens", command: spec.name)
        }
        let logits = model.sequenceLogits(ids)
        try SafetensorsWriter.write([SafetensorsEntry(name: "input_ids", integers: ids),
                                     SafetensorsEntry(name: "logits", tensor: logits)], to: out)
        console.out("\(out): logits [\(ids.count), \(model.vocabSize)] of \(modelPath) (\(loaded.kind)) for \(ids.count) ids of \(tokenPath)")
        return 0
    }
}
