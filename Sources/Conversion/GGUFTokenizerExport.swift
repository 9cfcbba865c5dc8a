// Hugging Face tokenizer files (tokenizer.json, tokenizer_config.json) built from a GGUF file's
// `tokenizer.ggml.*` arrays, for byte-level BPE vocabularies (`tokenizer.ggml.model` "gpt2").
// The pipeline is the one llama.cpp runs (src/llama-vocab.cpp; formats.md §9.6) expressed with HF
// `tokenizers` components, verified against llama.cpp's tokenizer on SmolLM2 (smollm2-golden README):
//   model BPE(vocab = tokens by id, merges split on the first space), no byte fallback;
//   pre-tokenizer "smollm"/"starcoder": Sequence[Digits(individual_digits), ByteLevel(no prefix space, regex)];
//   "gpt-2": ByteLevel(no prefix space, regex) alone; decoder ByteLevel;
//   control tokens (token_type 3) as special added tokens, user-defined ones (4) as non-special.
// The JSON has the key order `tokenizers` 0.23 writes, so the fixture generator's file compares equal.
import CheckpointIO
import TensorCore

/// Builds HF tokenizer files from GGUF metadata.
public enum GGUFTokenizerExport {
    /// GGUF `tokenizer.ggml.pre` names → the HF pre-tokenizer that reproduces llama.cpp's splitting.
    public static let preTokenizers: [(names: [String], json: JSONValue)] = [
        (["smollm", "starcoder"], .object([
            ("type", .string("Sequence")),
            ("pretokenizers", .array([
                .object([("type", .string("Digits")), ("individual_digits", .bool(true))]),
                byteLevel(addPrefixSpace: false, useRegex: true),
            ])),
        ])),
        (["gpt-2", "gpt2"], byteLevel(addPrefixSpace: false, useRegex: true)),
    ]

    /// The files to write: (file name, JSON), or nil with the reason when the vocabulary is not one
    /// this builder handles (then no tokenizer is exported).
    public static func files(_ f: GGUFFile, contextLength: Int) throws -> (files: [(String, JSONValue)]?, reason: String?) {
        guard let model = try f.optionalString("tokenizer.ggml.model") else {
            return (nil, "the GGUF has no tokenizer (tokenizer.ggml.model is absent)")
        }
        guard model == "gpt2" else {
            return (nil, "tokenizer.ggml.model \"\(model)\": only byte-level BPE (\"gpt2\") vocabularies are exported")
        }
        let pre = try f.optionalString("tokenizer.ggml.pre") ?? "default"
        guard let preTokenizer = preTokenizers.first(where: { $0.names.contains(pre) })?.json else {
            return (nil, "tokenizer.ggml.pre \"\(pre)\" has no known HF equivalent (known: "
                + preTokenizers.flatMap(\.names).joined(separator: ", ") + ")")
        }
        guard let tokens = try f.optionalStringArray("tokenizer.ggml.tokens") else {
            throw GGUFError.missingKey(file: f.path, key: "tokenizer.ggml.tokens")
        }
        let merges = try f.optionalStringArray("tokenizer.ggml.merges") ?? []
        let types = try f.optionalIntegerArray("tokenizer.ggml.token_type") ?? Array(repeating: 1, count: tokens.count)
        guard types.count == tokens.count else {
            throw GGUFError.invalidValue(file: f.path, key: "tokenizer.ggml.token_type",
                                         detail: "has \(types.count) entries but tokenizer.ggml.tokens has \(tokens.count)")
        }
        var seen = Set<String>()
        for t in tokens where !seen.insert(t).inserted {
            throw GGUFError.invalidValue(file: f.path, key: "tokenizer.ggml.tokens", detail: "token \"\(t)\" appears twice")
        }
        var mergePairs: [JSONValue] = []
        mergePairs.reserveCapacity(merges.count)
        for (i, m) in merges.enumerated() {
            guard let space = m.firstIndex(of: " ") else {
                throw GGUFError.invalidValue(file: f.path, key: "tokenizer.ggml.merges", detail: "entry \(i) \"\(m)\" has no space")
            }
            mergePairs.append(.array([.string(String(m[..<space])), .string(String(m[m.index(after: space)...]))]))
        }
        func tokenID(_ key: String) throws -> Int? {
            guard let id = try f.optionalInt(key) else { return nil }
            guard id >= 0 && id < tokens.count else {
                throw GGUFError.invalidValue(file: f.path, key: key, detail: "token id \(id) is outside the vocabulary of \(tokens.count)")
            }
            return id
        }
        let bos = try tokenID("tokenizer.ggml.bos_token_id")
        let eos = try tokenID("tokenizer.ggml.eos_token_id")
        let unk = try tokenID("tokenizer.ggml.unknown_token_id")
        let pad = try tokenID("tokenizer.ggml.padding_token_id")
        let addBOS = try f.optionalBool("tokenizer.ggml.add_bos_token") ?? false
        let addEOS = try f.optionalBool("tokenizer.ggml.add_eos_token") ?? false

        // Added tokens: control (3) special, user-defined (4) not.
        let added: [(id: Int, special: Bool)] = types.enumerated().compactMap { i, t in
            t == 3 ? (i, true) : t == 4 ? (i, false) : nil
        }
        let addedJSON: [JSONValue] = added.map { a in
            .object([("id", .int(a.id)), ("content", .string(tokens[a.id])), ("single_word", .bool(false)),
                     ("lstrip", .bool(false)), ("rstrip", .bool(false)), ("normalized", .bool(false)),
                     ("special", .bool(a.special))])
        }

        let tokenizer = JSONValue.object([
            ("version", .string("1.0")),
            ("truncation", .null),
            ("padding", .null),
            ("added_tokens", .array(addedJSON)),
            ("normalizer", .null),
            ("pre_tokenizer", preTokenizer),
            ("post_processor", postProcessor(tokens, bos: addBOS ? bos : nil, eos: addEOS ? eos : nil)),
            ("decoder", byteLevel(addPrefixSpace: true, useRegex: true)),
            ("model", .object([
                ("type", .string("BPE")),
                ("dropout", .null),
                ("unk_token", .null),
                ("continuing_subword_prefix", .null),
                ("end_of_word_suffix", .null),
                ("fuse_unk", .bool(false)),
                ("byte_fallback", .bool(false)),
                ("ignore_merges", .bool(false)),
                ("vocab", .object(tokens.enumerated().map { ($1, .int($0)) })),
                ("merges", .array(mergePairs)),
            ])),
        ])

        var config: [(String, JSONValue)] = [
            ("add_bos_token", .bool(addBOS)),
            ("add_eos_token", .bool(addEOS)),
            ("added_tokens_decoder", .object(added.map { a in
                (String(a.id), .object([("content", .string(tokens[a.id])), ("lstrip", .bool(false)),
                                        ("normalized", .bool(false)), ("rstrip", .bool(false)),
                                        ("single_word", .bool(false)), ("special", .bool(a.special))]))
            })),
        ]
        if let bos { config.append(("bos_token", .string(tokens[bos]))) }
        if let chat = try f.optionalString("tokenizer.chat_template") { config.append(("chat_template", .string(chat))) }
        config.append(("clean_up_tokenization_spaces", .bool(false)))
        if let eos { config.append(("eos_token", .string(tokens[eos]))) }
        config.append(("model_max_length", .int(contextLength)))
        if let pad { config.append(("pad_token", .string(tokens[pad]))) }
        config.append(("tokenizer_class", .string("PreTrainedTokenizerFast")))
        if let unk { config.append(("unk_token", .string(tokens[unk]))) }

        return ([("tokenizer.json", tokenizer), ("tokenizer_config.json", .object(config))], nil)
    }

    static func byteLevel(addPrefixSpace: Bool, useRegex: Bool) -> JSONValue {
        .object([("type", .string("ByteLevel")), ("add_prefix_space", .bool(addPrefixSpace)),
                 ("trim_offsets", .bool(true)), ("use_regex", .bool(useRegex))])
    }

    /// `TemplateProcessing` adding BOS before and/or EOS after each sequence (transformers'
    /// LlamaTokenizerFast `update_post_processor`), or null when neither is added. `secondTypeId`: the
    /// type id of the pair's second sequence and its special tokens (LlamaTokenizerFast: 1).
    static func postProcessor(_ tokens: [String], bos: Int?, eos: Int?, secondTypeId: Int = 0) -> JSONValue {
        guard bos != nil || eos != nil else { return .null }
        func special(_ id: Int, _ type: Int) -> JSONValue {
            .object([("SpecialToken", .object([("id", .string(tokens[id])), ("type_id", .int(type))]))])
        }
        func sequence(_ s: String, _ type: Int) -> JSONValue {
            .object([("Sequence", .object([("id", .string(s)), ("type_id", .int(type))]))])
        }
        var single: [JSONValue] = [], pair: [JSONValue] = []
        for s in ["A", "B"] {
            let type = s == "A" ? 0 : secondTypeId
            var part: [JSONValue] = []
            if let bos { part.append(special(bos, type)) }
            part.append(sequence(s, type))
            if let eos { part.append(special(eos, type)) }
            if s == "A" { single = part }
            pair += part
        }
        var specials: [(String, JSONValue)] = []
        for id in [bos, eos].compactMap({ $0 }) where !specials.contains(where: { $0.0 == tokens[id] }) {
            specials.append((tokens[id], .object([("id", .string(tokens[id])), ("ids", .array([.int(id)])),
                                                  ("tokens", .array([.string(tokens[id])]))])))
        }
        return .object([("type", .string("TemplateProcessing")), ("single", .array(single)), ("pair", .array(pair)),
                        ("special_tokens", .object(specials.sorted { $0.0 < $1.0 }))])
    }
}
