// A byte-level BPE tokenizer from the flat arrays a GGUF file stores (`tokenizer.ggml.tokens`, `merges`,
// `token_type`, BOS/EOS ids, `add_bos_token`, `pre`), matching llama.cpp (`src/llama-vocab.cpp`
// `llm_tokenizer_bpe`) and the equivalent Hugging Face pipeline
// `Sequence([Digits(individual_digits=True), ByteLevel(add_prefix_space=False)])` + `BPE(vocab, merges)`.
// Token strings are already in the GPT-2 byte alphabet (`Ġ`, `Ċ`, …); merges are "left right", split on the
// first space, rank = index. Control (and unknown) tokens are special added tokens; user-defined tokens are
// matched in any mode, as llama.cpp's `parse_special = false` does.

/// The tokenizer arrays of a GGUF file (or any source that stores a byte-level BPE the same way).
public struct ByteLevelBPEArrays: Sendable {
    /// Token strings, index = id (`tokenizer.ggml.tokens`).
    public var tokens: [String]
    /// Merges "left right", rank = index (`tokenizer.ggml.merges`).
    public var merges: [String]
    /// llama.cpp token types per id (`tokenizer.ggml.token_type`: 1 normal, 2 unknown, 3 control,
    /// 4 user-defined, 5 unused, 6 byte); empty means all normal.
    public var tokenTypes: [Int]
    /// `tokenizer.ggml.bos_token_id` / `eos_token_id`.
    public var bosTokenId: Int?
    /// The end-of-sequence id.
    public var eosTokenId: Int?
    /// `tokenizer.ggml.add_bos_token` / `add_eos_token`.
    public var addBOS: Bool
    /// Whether `encode(…, addSpecialTokens: true, …)` appends the EOS.
    public var addEOS: Bool
    /// The llama.cpp pre-tokenizer name (`tokenizer.ggml.pre`), e.g. `smollm`.
    public var preTokenizerName: String
    /// Names the source in errors (e.g. the GGUF path).
    public var source: String

    /// The arrays of one tokenizer.
    public init(tokens: [String], merges: [String], tokenTypes: [Int] = [], bosTokenId: Int?, eosTokenId: Int?,
                addBOS: Bool, addEOS: Bool = false, preTokenizerName: String, source: String) {
        self.tokens = tokens
        self.merges = merges
        self.tokenTypes = tokenTypes
        self.bosTokenId = bosTokenId
        self.eosTokenId = eosTokenId
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.preTokenizerName = preTokenizerName
        self.source = source
    }

    /// llama.cpp pre-tokenizer names whose regexes are `\p{N}` then the GPT-2 regex.
    public static let digitsThenGPT2 = ["smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b"]
    /// llama.cpp pre-tokenizer names whose regex is the GPT-2 regex alone.
    public static let gpt2Only = ["gpt-2", "phi-2", "mpt", "olmo", "jais", "trillion", "exaone4"]

    /// The tokenizer the arrays define.
    public func tokenizer() throws -> BPETokenizer {
        let pre: PreTokenizer
        if ByteLevelBPEArrays.digitsThenGPT2.contains(preTokenizerName) {
            pre = .sequence([.digits(individual: true), .byteLevel(addPrefixSpace: false, useRegex: true)])
        } else if ByteLevelBPEArrays.gpt2Only.contains(preTokenizerName) {
            pre = .byteLevel(addPrefixSpace: false, useRegex: true)
        } else {
            throw TokenizerError(.unsupported, file: source, field: "tokenizer.ggml.pre",
                                 "pre-tokenizer \"\(preTokenizerName)\" (implemented: \((ByteLevelBPEArrays.digitsThenGPT2 + ByteLevelBPEArrays.gpt2Only).joined(separator: ", ")))")
        }
        guard !tokens.isEmpty, tokens.count < Int(Int32.max) else {
            throw TokenizerError(.malformed, file: source, field: "tokenizer.ggml.tokens", "\(tokens.count) tokens")
        }
        guard tokenTypes.isEmpty || tokenTypes.count == tokens.count else {
            throw TokenizerError(.malformed, file: source, field: "tokenizer.ggml.token_type",
                                 "\(tokenTypes.count) entries for \(tokens.count) tokens")
        }
        for (name, id) in [("bos_token_id", bosTokenId), ("eos_token_id", eosTokenId)] {
            if let id, id < 0 || id >= tokens.count {
                throw TokenizerError(.malformed, file: source, field: "tokenizer.ggml.\(name)", "\(id) is not below the token count \(tokens.count)")
            }
        }
        var byString: [[UInt8]: Int32] = [:]
        byString.reserveCapacity(tokens.count)
        for (id, t) in tokens.enumerated() {
            let b = Array(t.utf8)
            if let other = byString[b] {
                throw TokenizerError(.malformed, file: source, field: "tokenizer.ggml.tokens[\(id)]",
                                     "token \(t.debugDescription) repeats token \(other)")
            }
            byString[b] = Int32(id)
        }
        var table: [UInt64: UInt64] = [:]
        table.reserveCapacity(merges.count)
        for (rank, m) in merges.enumerated() {
            let field = "tokenizer.ggml.merges[\(rank)]"
            guard let space = m.utf8.firstIndex(of: 0x20) else {
                throw TokenizerError(.malformed, file: source, field: field, "expected \"left right\", found \(m.debugDescription)")
            }
            let a = Array(m.utf8[..<space]), b = Array(m.utf8[m.utf8.index(after: space)...])
            guard let ia = byString[a], let ib = byString[b] else {
                throw TokenizerError(.malformed, file: source, field: field, "\(m.debugDescription): a part is not a token")
            }
            guard let merged = byString[a + b] else {
                throw TokenizerError(.malformed, file: source, field: field, "\(m.debugDescription): the merged token is not in the vocabulary")
            }
            table[BPEModel.pairKey(ia, ib)] = (UInt64(rank) << 32) | UInt64(UInt32(merged))
        }
        let model = BPEModel(alphabet: .bytes, tokenBytes: tokens.map { ByteLevelAlphabet.bytes(of: $0) }, merges: table,
                             byteFallback: false, unkId: nil, fuseUnk: false, ignoreMerges: false)
        var added: [AddedToken] = []
        for (id, type) in tokenTypes.enumerated() {
            switch type {
            case 2, 3: added.append(AddedToken(id: id, content: tokens[id], special: true, normalized: false))
            case 4: added.append(AddedToken(id: id, content: tokens[id], special: false, normalized: false))
            default: break
            }
        }
        let post = PostProcessor(prefix: addBOS ? bosTokenId.map { [$0] } ?? [] : [],
                                 suffix: addEOS ? eosTokenId.map { [$0] } ?? [] : [])
        return BPETokenizer(model: model, tokenStrings: tokens, normalizer: nil, preTokenizer: pre, postProcessor: post,
                            decoder: .byteLevel, addedTokens: added, bosTokenId: bosTokenId, eosTokenId: eosTokenId)
    }
}
