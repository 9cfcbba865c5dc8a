// The tokenizer files a derived checkpoint (an export, a converted student) gets from its teacher:
// HF tokenizer files copied as they are; for a KerasHub preset, its SentencePiece vocabulary
// (assets/tokenizer/vocabulary.spm) copied as tokenizer.model with a tokenizer_config.json that says
// what its preprocessor adds (BOS, EOS) — the preset's own tokenizer.json is a Keras layer config, which
// transformers cannot read, so it is never copied; for a GGUF teacher, tokenizer.json /
// tokenizer_config.json rebuilt from the GGUF vocabulary (GGUFTokenizerExport).
import CheckpointIO
import TensorCore
import Tokenization

public enum TokenizerFiles {
    /// HF tokenizer files, in the order they are copied.
    public static let huggingFaceNames = ["tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"]

    /// Writes the teacher's tokenizer files into `directory`; returns the names written and notes on what
    /// could not be written.
    public static func write(from teacher: TeacherCheckpoint, into directory: String) throws -> (files: [String], notes: [String]) {
        var files: [String] = [], notes: [String] = []
        if let g = teacher.store as? GGUFTeacherStore {
            let (tokFiles, reason) = try GGUFTokenizerExport.files(g.gguf, contextLength: teacher.config.maxPositionEmbeddings)
            for (name, json) in tokFiles ?? [] {
                try writeFileAtomically(FileSystem.join(directory, name), text: json.serialized(indent: 2) + "\n")
                files.append(name)
            }
            if let reason { notes.append("no tokenizer files written: \(reason)") }
            return (files, notes)
        }
        guard let src = teacher.directory else { return (files, notes) }
        let kerasVocabulary = FileSystem.join(src, KerasHubCheckpoint.sentencePieceAsset)
        if teacher.format == .kerasHDF5 && FileSystem.exists(kerasVocabulary) {
            let settings: TokenizerConfig, model: SentencePieceModel
            do {
                settings = try kerasTokenizerSettings(src: src)
                model = try SentencePieceModel.load(kerasVocabulary)
            } catch {
                // The weights are still exported; the tokenizer the preset has is unusable (as for a GGUF
                // vocabulary that cannot be rebuilt).
                notes.append("no tokenizer files written: \(error)")
                return (files, notes)
            }
            let (json, reason) = try SentencePieceTokenizerExport.tokenizerJSON(
                model, addBOS: settings.addBOS ?? true, addEOS: settings.addEOS ?? false, file: kerasVocabulary)
            if let json {
                try writeFileAtomically(FileSystem.join(directory, "tokenizer.json"), text: json.serialized(indent: 2) + "\n")
                files.append("tokenizer.json")
            }
            if let reason { notes.append("no tokenizer.json written (tokenizer.model only): \(reason)") }
            try writeFileAtomically(FileSystem.join(directory, "tokenizer.model"), bytes: try readFile(kerasVocabulary))
            let config = try kerasTokenizerConfig(model, settings, file: kerasVocabulary)
            try writeFileAtomically(FileSystem.join(directory, "tokenizer_config.json"), text: config.serialized(indent: 2) + "\n")
            return (files + ["tokenizer.model", "tokenizer_config.json"], notes)
        }
        for name in huggingFaceNames {
            let p = FileSystem.join(src, name)
            guard FileSystem.exists(p) && !FileSystem.isDirectory(p) else { continue }
            if name == "tokenizer.json", try TokenizerConfig.isKerasLayerConfig(p) {
                notes.append("\(p) is a Keras layer config, not a Hugging Face tokenizer file: not copied")
                continue
            }
            try writeFileAtomically(FileSystem.join(directory, name), bytes: try readFile(p))
            files.append(name)
        }
        if files.isEmpty { notes.append("no tokenizer files written: \(src) has none of \(huggingFaceNames.joined(separator: ", "))") }
        return (files, notes)
    }

    /// What a KerasHub preset's preprocessor adds when encoding (`add_start_token` / `add_end_token`).
    static func kerasTokenizerSettings(src: String) throws -> TokenizerConfig {
        let located = try TokenizerLoader.locate(src)
        guard let c = located.configFile, located.configIsKeras else { return TokenizerConfig() }
        return try TokenizerConfig.loadKerasHub(c)
    }

    /// transformers' `tokenizer_config.json` for a KerasHub preset's SentencePiece vocabulary: a Llama
    /// tokenizer (legacy, as transformers defaults) adding BOS / EOS as the preset's preprocessor does
    /// (Llama's defaults, BOS only, where the preset does not say).
    static func kerasTokenizerConfig(_ model: SentencePieceModel, _ settings: TokenizerConfig, file: String) throws -> JSONValue {
        let (unk, bos, eos) = try model.specialIds(file: file)
        func piece(_ id: Int?) -> JSONValue { id.map { .string(model.pieces[$0].piece) } ?? .null }
        return .object([
            ("tokenizer_class", .string("LlamaTokenizer")),
            ("add_bos_token", .bool(settings.addBOS ?? true)),
            ("add_eos_token", .bool(settings.addEOS ?? false)),
            ("bos_token", piece(bos)),
            ("eos_token", piece(eos)),
            ("unk_token", piece(unk)),
            ("legacy", .bool(true)),
            ("clean_up_tokenization_spaces", .bool(false)),
        ])
    }
}
