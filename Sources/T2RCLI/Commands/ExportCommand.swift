// `t2r export SRC --out DIR [--dtype f32|bf16]`: any checkpoint t2r reads (safetensors, HDF5, GGUF) →
// an ordinary Hugging Face checkpoint directory (safetensors + config.json + tokenizer files) that
// transformers loads with `from_pretrained(DIR)`.
import CheckpointIO
import Conversion
import Foundation
import TensorCore

enum ExportCommand: Command {
    static let spec = CommandSpec(
        name: "export",
        abstract: "Write a checkpoint as Hugging Face safetensors + config.json + tokenizer files.",
        positionals: [PositionalSpec("source", help: "A checkpoint directory or weights file (.safetensors, .h5, .gguf).")],
        options: [
            OptionSpec("out", value: "DIR", help: "Output directory (created; must not exist or be empty)."),
            OptionSpec("dtype", value: "f32|bf16", help: "Storage type of the written tensors.", default: "f32"),
            OptionSpec("max-shard-bytes", value: "N", help: "Split the weights into shards of at most N bytes.",
                       default: String(HuggingFaceExport.defaultMaxShardBytes)),
        ],
        discussion: """
        GGUF tensors are dequantised and their q/k rows put back into HF order; the tokenizer is rebuilt from the
        GGUF vocabulary (byte-level BPE). Other sources copy tokenizer.json, tokenizer.model, tokenizer_config.json
        and special_tokens_map.json when present. Exit status: 0 on success, 64 for a bad option or an output
        directory that is not empty, 65 when the source is malformed or incomplete.
        """)

    static func run(_ args: ParsedArguments, _ console: Console) throws -> Int32 {
        let source = args.positionals[0]
        let out = try args.required("out")
        let dtype: SafetensorsDType
        switch args.string("dtype") ?? "f32" {
        case "f32": dtype = .F32
        case "bf16": dtype = .BF16
        case let d: throw UsageError(message: "--dtype must be f32 or bf16, got \"\(d)\"", command: spec.name)
        }
        let maxShard = try args.int("max-shard-bytes", default: HuggingFaceExport.defaultMaxShardBytes, min: 1)
        let teacher = try CheckpointLocator.locate(source).openTeacher()
        console.err("exporting \(source) (\(teacher.format.rawValue)) to \(out) as \(dtype.rawValue)")
        let start = Date()
        let result = try HuggingFaceExport.export(teacher, to: out, dtype: dtype, maxShardBytes: maxShard) { event in
            switch event {
            case let .tensor(i, n, name, file):
                if console.stderrIsTerminal {
                    console.err("\r\u{1B}[K[\(i)/\(n)] \(name) → \(file)", terminator: i == n ? "\n" : "")
                }
            case .file: break
            }
        }
        for note in result.notes { console.err("note: \(note)") }
        console.out("wrote \(result.directory): \(result.tensorCount) tensors (\(Format.bytes(result.tensorBytes)) of \(dtype.rawValue)), "
            + "files \(result.files.joined(separator: ", ")) in \(Format.fixed(Date().timeIntervalSince(start), 1)) s")
        return 0
    }
}
