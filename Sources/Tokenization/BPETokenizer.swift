// A complete BPE tokenizer as a Hugging Face `tokenizers` pipeline (`tokenizer/mod.rs`
// `encode_single_sequence`, `decode` @ 3ba8ad0): added tokens on the raw text → normalizer → added tokens
// on the normalized text → pre-tokenizer → BPE model per word (with a per-call word cache) →
// post-processor. Every family t2r reads (tokenizer.json, SentencePiece tokenizer.model, GGUF arrays)
// is built into this one type.

/// What the post-processor adds around the ids of one sequence (HF `TemplateProcessing` single template).
public struct PostProcessor: Sendable, Equatable {
    /// Ids before the sequence (e.g. `[bos]`).
    public var prefix: [Int]
    /// Ids after the sequence (e.g. `[eos]`).
    public var suffix: [Int]

    /// A template `prefix $A suffix`.
    public init(prefix: [Int] = [], suffix: [Int] = []) {
        self.prefix = prefix
        self.suffix = suffix
    }
}

/// A BPE tokenizer: normalizer, pre-tokenizer, model, post-processor and decoder.
public final class BPETokenizer: Tokenizer {
    /// The BPE model.
    public let model: BPEModel
    /// Normalizer of text between added tokens (nil: none).
    public let normalizer: Normalizer?
    /// Pre-tokenizer (nil: each normalized piece is one word).
    public let preTokenizer: PreTokenizer?
    /// What `addSpecialTokens` adds.
    public let postProcessor: PostProcessor
    /// Decoder (nil: tokens joined with spaces, as HF without a decoder).
    public let decoder: TokenDecoder?
    /// The added tokens.
    public let addedTokens: [AddedToken]
    /// The beginning-of-sequence id, if any.
    public let bosTokenId: Int?
    /// The end-of-sequence id, if any.
    public let eosTokenId: Int?
    /// One more than the largest id (model vocabulary and added tokens).
    public let vocabularySize: Int

    private let rawMatcher: AddedTokenMatcher
    private let normalizedMatcher: AddedTokenMatcher
    /// Token strings by id (vocabulary spelling), for decoding.
    private let tokenStrings: [String?]
    /// Ids of special added tokens, skipped by `decode(…, skipSpecialTokens: true)`.
    private let specialIds: Set<Int>

    /// Builds a tokenizer from its parts.
    /// - Parameters:
    ///   - tokenStrings: vocabulary spelling of every id of the model (`model.count` entries, nil for holes).
    ///   - addedTokens: tokens matched whole; ids may extend past the model's vocabulary.
    public init(model: BPEModel, tokenStrings: [String?], normalizer: Normalizer?, preTokenizer: PreTokenizer?,
                postProcessor: PostProcessor, decoder: TokenDecoder?, addedTokens: [AddedToken],
                bosTokenId: Int?, eosTokenId: Int?) {
        self.model = model
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.postProcessor = postProcessor
        self.decoder = decoder
        self.addedTokens = addedTokens
        self.bosTokenId = bosTokenId
        self.eosTokenId = eosTokenId
        var strings = tokenStrings
        let size = max(tokenStrings.count, (addedTokens.map(\.id).max() ?? -1) + 1)
        if strings.count < size { strings += [String?](repeating: nil, count: size - strings.count) }
        for t in addedTokens { strings[t.id] = t.content }
        self.tokenStrings = strings
        self.vocabularySize = size
        self.specialIds = Set(addedTokens.filter(\.special).map(\.id))
        self.rawMatcher = AddedTokenMatcher(addedTokens.filter { !$0.normalized })
        self.normalizedMatcher = AddedTokenMatcher(addedTokens.filter { $0.normalized })
    }

    /// Whether the post-processor puts the BOS first.
    public var addsBOS: Bool { bosTokenId.map { postProcessor.prefix.contains($0) } ?? false }
    /// Whether the post-processor appends the EOS.
    public var addsEOS: Bool { eosTokenId.map { postProcessor.suffix.contains($0) } ?? false }

    /// The vocabulary spelling of `id` (added tokens as their text), or nil.
    public func token(for id: Int) -> String? { id >= 0 && id < tokenStrings.count ? tokenStrings[id] : nil }

    /// A copy with a different post-processor (e.g. BOS/EOS from `tokenizer_config.json`).
    public func with(postProcessor: PostProcessor, bosTokenId: Int?, eosTokenId: Int?) -> BPETokenizer {
        BPETokenizer(model: model, tokenStrings: Array(tokenStrings.prefix(model.count)), normalizer: normalizer,
                     preTokenizer: preTokenizer, postProcessor: postProcessor, decoder: decoder, addedTokens: addedTokens,
                     bosTokenId: bosTokenId, eosTokenId: eosTokenId)
    }

    // MARK: Encoding

    /// Token ids of `text` (see `Tokenizer.encode`): added tokens, normalizer, pre-tokenizer, BPE per word,
    /// post-processor.
    public func encode(_ text: String, addSpecialTokens: Bool, parseSpecial: Bool) -> [Int] {
        var ids: [Int32] = []
        if addSpecialTokens { ids.append(contentsOf: postProcessor.prefix.map { Int32($0) }) }
        var state = EncodeState()
        let bytes = Array(text.utf8)
        ids.reserveCapacity(bytes.count / 3 + 8)
        for seg in rawMatcher.segments(bytes, includeSpecial: parseSpecial) {
            switch seg {
            case .token(let id): ids.append(id)
            case .text(let r): encodeText(Array(bytes[r]), atOrigin: r.lowerBound == 0, parseSpecial: parseSpecial,
                                          into: &ids, state: &state)
            }
        }
        if addSpecialTokens { ids.append(contentsOf: postProcessor.suffix.map { Int32($0) }) }
        return ids.map(Int.init)
    }

    /// Buffers and the word cache of one `encode` call (words shorter than 256 bytes, as HF's cache).
    private struct EncodeState {
        var scratch = BPEModel.Scratch()
        var cache: [[UInt8]: [Int32]] = [:]
        static let maxCachedWordLength = 256
        static let maxCacheEntries = 1 << 16
    }

    /// Normalizes, pre-tokenizes and encodes one run of text between raw-matched added tokens.
    private func encodeText(_ piece: [UInt8], atOrigin: Bool, parseSpecial: Bool, into ids: inout [Int32], state: inout EncodeState) {
        var normalized = piece
        normalizer?.apply(&normalized)
        for run in normalizedMatcher.segments(normalized, includeSpecial: parseSpecial) {
            switch run {
            case .token(let id): ids.append(id)
            case .text(let r):
                var s = PreTokenizedString(Array(normalized[r]), atOrigin: atOrigin && r.lowerBound == 0)
                preTokenizer?.apply(&s)
                encodeWords(s, into: &ids, state: &state)
            }
        }
    }

    /// Runs the model on every word, through the cache.
    private func encodeWords(_ s: PreTokenizedString, into ids: inout [Int32], state: inout EncodeState) {
        s.bytes.withUnsafeBufferPointer { p in
            for w in s.words {
                if w.count < EncodeState.maxCachedWordLength {
                    let key = Array(p[w])
                    if let hit = state.cache[key] {
                        ids.append(contentsOf: hit)
                        continue
                    }
                    let start = ids.count
                    model.encodeWord(p, w, into: &ids, scratch: &state.scratch)
                    if state.cache.count < EncodeState.maxCacheEntries { state.cache[key] = Array(ids[start...]) }
                } else {
                    model.encodeWord(p, w, into: &ids, scratch: &state.scratch)
                }
            }
        }
    }

    // MARK: Decoding

    /// The text of `ids` through the decoder (see `Tokenizer.decode`).
    public func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String {
        var tokens: [String] = []
        tokens.reserveCapacity(ids.count)
        for id in ids {
            guard let t = token(for: id) else { continue }
            if skipSpecialTokens && specialIds.contains(id) { continue }
            tokens.append(t)
        }
        guard let decoder else { return tokens.joined(separator: " ") }
        return decoder.decode(tokens)
    }
}
