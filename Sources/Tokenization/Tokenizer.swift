// The tokenizer interface every model family implements: text → ids (with the special-token rules
// of the tokenizer's configuration) and ids → text. Semantics follow Hugging Face `tokenizers`
// (`Tokenizer::encode` / `decode`, huggingface/tokenizers `tokenizers/src/tokenizer/mod.rs` @ 3ba8ad0).

/// Converts text to token ids and back.
public protocol Tokenizer: Sendable {
    /// Token ids of `text`.
    /// - Parameters:
    ///   - addSpecialTokens: add what the tokenizer's post-processor adds (e.g. BOS for Llama/Mistral;
    ///     nothing for SmolLM2), as HF `add_special_tokens=True`.
    ///   - parseSpecial: match the text of special tokens (`</s>`, `<|im_end|>`) as those tokens, as HF
    ///     does by default and llama.cpp with `parse_special = true`. When false, special-token text is
    ///     tokenized as plain text (HF `encode_special_tokens = true`, llama.cpp `parse_special = false`);
    ///     non-special added tokens are matched either way.
    func encode(_ text: String, addSpecialTokens: Bool, parseSpecial: Bool) -> [Int]

    /// The text of `ids` (unknown ids are skipped); special tokens are left out when `skipSpecialTokens`.
    func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String

    /// The beginning-of-sequence id, if the tokenizer has one.
    var bosTokenId: Int? { get }
    /// The end-of-sequence id, if the tokenizer has one.
    var eosTokenId: Int? { get }
    /// Number of ids (one more than the largest id).
    var vocabularySize: Int { get }
    /// The token string of `id` as the vocabulary spells it (e.g. `▁the`, `Ġthe`, `<0x0A>`), or nil.
    func token(for id: Int) -> String?
    /// Whether `encode(…, addSpecialTokens: true, …)` adds a BOS / an EOS.
    var addsBOS: Bool { get }
    /// Whether `encode(…, addSpecialTokens: true, …)` appends an EOS.
    var addsEOS: Bool { get }
}

extension Tokenizer {
    /// Ids of `text` with the configured special tokens added and special-token text parsed (the HF default).
    public func encode(_ text: String) -> [Int] { encode(text, addSpecialTokens: true, parseSpecial: true) }

    /// The text of `ids`, special tokens skipped (the HF default).
    public func decode(_ ids: [Int]) -> String { decode(ids, skipSpecialTokens: true) }
}
