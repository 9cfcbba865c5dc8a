// Finds and loads the tokenizer of a checkpoint directory or a tokenizer file, as transformers'
// `AutoTokenizer` would for a Llama/Mistral-style checkpoint: `tokenizer.json` (a Hugging Face tokenizers
// file) first, else the SentencePiece `tokenizer.model`, else a KerasHub preset's
// `assets/tokenizer/vocabulary.spm`; BOS/EOS handling from `tokenizer_config.json` (HF) or
// `preprocessor.json` (KerasHub: `add_start_token` / `add_end_token`, what its CausalLM trains and scores
// with). GGUF files hold their tokenizer as metadata arrays; those are read by the GGUF reader and built
// with `ByteLevelBPEArrays`.
import TensorCore

/// Where a tokenizer comes from.
public struct TokenizerSource: Sendable, Equatable {
    /// The kind of tokenizer file.
    public enum Kind: String, Sendable, Equatable {
        /// A Hugging Face `tokenizer.json`.
        case huggingFaceJSON = "tokenizer.json"
        /// A SentencePiece model (`tokenizer.model`, KerasHub `vocabulary.spm`).
        case sentencePiece = "SentencePiece model"
    }

    /// The tokenizer file.
    public let file: String
    /// Its kind.
    public let kind: Kind
    /// The special-token settings file that goes with it, if any.
    public let configFile: String?
    /// Whether `configFile` is a KerasHub config (else Hugging Face `tokenizer_config.json`).
    public let configIsKeras: Bool
}

/// Locating and loading tokenizers.
public enum TokenizerLoader {
    /// Finds the tokenizer for `path`: a checkpoint directory, or a `tokenizer.json` / `.model` / `.spm` file.
    public static func locate(_ path: String) throws -> TokenizerSource {
        guard FileSystem.exists(path) else { throw TokenizerError(.notFound, file: path, "no such file or directory") }
        if !FileSystem.isDirectory(path) {
            let dir = FileSystem.directoryName(path)
            let hfConfig = FileSystem.join(dir, "tokenizer_config.json")
            let config = FileSystem.exists(hfConfig) ? hfConfig : nil
            if path.hasSuffix(".json") {
                return TokenizerSource(file: path, kind: .huggingFaceJSON, configFile: config, configIsKeras: false)
            }
            if path.hasSuffix(".model") || path.hasSuffix(".spm") {
                return TokenizerSource(file: path, kind: .sentencePiece, configFile: config, configIsKeras: false)
            }
            throw TokenizerError(.unsupported, file: path, "unknown tokenizer file type (expected tokenizer.json, *.model or *.spm)")
        }
        func at(_ n: String) -> String { FileSystem.join(path, n) }
        let hfConfig = FileSystem.exists(at("tokenizer_config.json")) ? at("tokenizer_config.json") : nil
        var kerasLayerConfig: String? = nil
        if FileSystem.exists(at("tokenizer.json")) {
            if try TokenizerConfig.isKerasLayerConfig(at("tokenizer.json")) {
                kerasLayerConfig = at("tokenizer.json")
            } else {
                return TokenizerSource(file: at("tokenizer.json"), kind: .huggingFaceJSON, configFile: hfConfig, configIsKeras: false)
            }
        }
        if FileSystem.exists(at("tokenizer.model")) {
            return TokenizerSource(file: at("tokenizer.model"), kind: .sentencePiece, configFile: hfConfig, configIsKeras: false)
        }
        let spm = at("assets/tokenizer/vocabulary.spm")
        if FileSystem.exists(spm) {
            let pre = FileSystem.exists(at("preprocessor.json")) ? at("preprocessor.json") : kerasLayerConfig
            return TokenizerSource(file: spm, kind: .sentencePiece, configFile: pre, configIsKeras: pre != nil)
        }
        throw TokenizerError(.notFound, file: path,
                             "no tokenizer: looked for tokenizer.json, tokenizer.model and assets/tokenizer/vocabulary.spm")
    }

    /// Loads the tokenizer for `path` (see `locate`).
    public static func load(_ path: String) throws -> BPETokenizer {
        try load(try locate(path))
    }

    /// Loads a located tokenizer with its special-token settings.
    public static func load(_ source: TokenizerSource) throws -> BPETokenizer {
        var config = TokenizerConfig()
        if let c = source.configFile {
            config = source.configIsKeras ? try TokenizerConfig.loadKerasHub(c) : try TokenizerConfig.loadHuggingFace(c)
        }
        switch source.kind {
        case .huggingFaceJSON:
            let t = try TokenizerJSON.load(source.file)
            return try t.applying(config, file: source.configFile ?? source.file)
        case .sentencePiece:
            var model = try SentencePieceModel.load(source.file)
            if config.addPrefixSpace == false { model.addDummyPrefix = false }
            let t = try model.tokenizer(addBOS: config.addBOS ?? true, addEOS: config.addEOS ?? false,
                                        legacy: config.legacy ?? true, file: source.file)
            return try t.applying(TokenizerConfig(bosToken: config.bosToken, eosToken: config.eosToken),
                                  file: source.configFile ?? source.file)
        }
    }
}
