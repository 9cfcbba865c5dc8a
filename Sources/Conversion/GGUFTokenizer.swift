// The tokenizer of a GGUF file, from its `tokenizer.ggml.*` metadata (ggml-org/llama.cpp
// `src/llama-vocab.cpp` `llama_vocab::impl::load`; formats.md §8.7, §9.6):
//   model "gpt2"  → byte-level BPE (`ByteLevelBPEArrays`: tokens, merges, token_type, `pre`);
//   model "llama" → SentencePiece BPE over tokens / scores / token_type with byte fallback and a dummy
//                   prefix (`add_space_prefix`, default true), as a `SentencePieceModel`;
// BOS/EOS ids and `add_bos_token` / `add_eos_token` as stored (defaults: llama.cpp's per model type).
// Also the tokenizer of any checkpoint path, GGUF or not (`CheckpointTokenizer`).
import CheckpointIO
import TensorCore
import Tokenization

/// Reads the tokenizer stored in a GGUF file.
public enum GGUFTokenizer {
    /// The tokenizer of the GGUF file at `path`.
    public static func load(_ path: String) throws -> BPETokenizer {
        try load(try GGUFFile(path: path))
    }

    /// The tokenizer of an opened GGUF file.
    public static func load(_ f: GGUFFile) throws -> BPETokenizer {
        guard let model = try f.optionalString("tokenizer.ggml.model") else {
            throw GGUFError.missingKey(file: f.path, key: "tokenizer.ggml.model")
        }
        guard let tokens = try f.optionalStringArray("tokenizer.ggml.tokens") else {
            throw GGUFError.missingKey(file: f.path, key: "tokenizer.ggml.tokens")
        }
        let types = try f.optionalIntegerArray("tokenizer.ggml.token_type") ?? []
        let bos = try f.optionalInt("tokenizer.ggml.bos_token_id")
        let eos = try f.optionalInt("tokenizer.ggml.eos_token_id")
        switch model {
        case "gpt2":
            let arrays = ByteLevelBPEArrays(
                tokens: tokens, merges: try f.optionalStringArray("tokenizer.ggml.merges") ?? [], tokenTypes: types,
                bosTokenId: bos, eosTokenId: eos,
                addBOS: try f.optionalBool("tokenizer.ggml.add_bos_token") ?? false,
                addEOS: try f.optionalBool("tokenizer.ggml.add_eos_token") ?? false,
                preTokenizerName: try f.optionalString("tokenizer.ggml.pre") ?? "default", source: f.path)
            return try arrays.tokenizer()
        case "llama":
            let scores = try f.optionalFloatArray("tokenizer.ggml.scores") ?? []
            guard scores.count == tokens.count, types.isEmpty || types.count == tokens.count else {
                throw GGUFError.invalidValue(file: f.path, key: "tokenizer.ggml.scores",
                                             detail: "\(scores.count) scores and \(types.count) token types for \(tokens.count) tokens")
            }
            var sp = SentencePieceModel()
            sp.modelType = .bpe
            sp.byteFallback = true
            sp.pieces = try tokens.indices.map { i in
                let t = types.isEmpty ? 1 : types[i]
                guard let type = SentencePieceModel.PieceType(rawValue: t) else {
                    throw GGUFError.invalidValue(file: f.path, key: "tokenizer.ggml.token_type", detail: "entry \(i) is \(t), expected 1…6")
                }
                return SentencePieceModel.Piece(piece: tokens[i], score: scores[i], type: type)
            }
            sp.unkId = try f.optionalInt("tokenizer.ggml.unknown_token_id") ?? 0
            sp.bosId = bos ?? 1
            sp.eosId = eos ?? 2
            sp.addDummyPrefix = try f.optionalBool("tokenizer.ggml.add_space_prefix") ?? true
            sp.removeExtraWhitespaces = try f.optionalBool("tokenizer.ggml.remove_extra_whitespaces") ?? false
            return try sp.tokenizer(addBOS: try f.optionalBool("tokenizer.ggml.add_bos_token") ?? true,
                                    addEOS: try f.optionalBool("tokenizer.ggml.add_eos_token") ?? false, file: f.path)
        default:
            throw CheckpointError.unsupported(path: f.path, reason: "tokenizer.ggml.model \"\(model)\" (implemented: gpt2, llama)")
        }
    }
}

/// The tokenizer of a checkpoint path of any kind t2r reads.
public enum CheckpointTokenizer {
    /// The tokenizer for `path`: a `.gguf` file; a directory with tokenizer files (`TokenizerLoader`) or,
    /// failing those, a single `.gguf`; or a tokenizer file (`tokenizer.json`, `*.model`, `*.spm`).
    public static func load(_ path: String) throws -> BPETokenizer {
        if path.hasSuffix(".gguf") && !FileSystem.isDirectory(path) { return try GGUFTokenizer.load(path) }
        do {
            return try TokenizerLoader.load(path)
        } catch let e as TokenizerError where e.kind == .notFound && FileSystem.isDirectory(path) {
            let ggufs = try FileSystem.listDirectory(path).filter { $0.hasSuffix(".gguf") }
            guard ggufs.count == 1 else { throw e }
            return try GGUFTokenizer.load(FileSystem.join(path, ggufs[0]))
        }
    }
}
