// Text of a growing token sequence, emitted piece by piece as tokens arrive. Ports the algorithm of
// Hugging Face `tokenizers` `DecodeStream::step` (`tokenizers/src/tokenizer/mod.rs` @ 3ba8ad0): the
// decoder runs over a short window of recent ids; the text beyond the window's already-emitted prefix is
// emitted once it does not end in U+FFFD, i.e. once the last token no longer leaves a UTF-8 sequence
// (byte-level BPE piece or `<0xHH>` byte-fallback run) unfinished. Decoding a window with context
// keeps the spaces that a Metaspace decoder drops at the start of a sequence.

/// Turns token ids, one at a time, into the exact text `decode` would give for all of them.
public struct StreamingDetokenizer {
    /// The tokenizer whose decoder is used.
    public let tokenizer: any Tokenizer
    /// Whether special tokens are left out of the text (as `decode`'s default).
    public let skipSpecialTokens: Bool
    /// Recent ids: `window[..<emittedCount]` is context whose text was already emitted (or is the prompt).
    private var window: [Int]
    private var emittedCount: Int
    private var emittedText: String

    /// A stream whose text continues that of `context` (e.g. the prompt ids, which are not emitted).
    public init(tokenizer: any Tokenizer, context: [Int] = [], skipSpecialTokens: Bool = true) {
        self.tokenizer = tokenizer
        self.skipSpecialTokens = skipSpecialTokens
        window = context
        emittedCount = context.count
        emittedText = tokenizer.decode(context, skipSpecialTokens: skipSpecialTokens)
    }

    /// Adds `id`; returns the new text it completes (possibly empty, when it ends inside a character
    /// or decodes to nothing).
    public mutating func append(_ id: Int) -> String {
        window.append(id)
        let text = tokenizer.decode(window, skipSpecialTokens: skipSpecialTokens)
        guard text.utf8.count > emittedText.utf8.count, text.unicodeScalars.last != "\u{FFFD}" else { return "" }
        let delta = StreamingDetokenizer.suffix(of: text, after: emittedText)
        // The emitted part becomes the new context; only what follows it is decoded from now on.
        window.removeFirst(emittedCount)
        emittedCount = window.count
        emittedText = tokenizer.decode(window, skipSpecialTokens: skipSpecialTokens)
        return delta
    }

    /// The text still held back (an unfinished character at the end shows as U+FFFD, as `decode` gives
    /// it); call once after the last token.
    public mutating func finish() -> String {
        let text = tokenizer.decode(window, skipSpecialTokens: skipSpecialTokens)
        let delta = text.utf8.count > emittedText.utf8.count ? StreamingDetokenizer.suffix(of: text, after: emittedText) : ""
        window.removeFirst(emittedCount)
        emittedCount = window.count
        emittedText = text
        return delta
    }

    /// `text` after `prefix`, compared scalar by scalar (a token may add a combining mark to the last
    /// character of `prefix`, so Character-wise `hasPrefix` does not apply). A decoder whose output for a
    /// longer window did not extend the shorter one would get the text after their common prefix; no
    /// decoder t2r implements does that.
    static func suffix(of text: String, after prefix: String) -> String {
        var common = 0
        for (a, b) in zip(text.unicodeScalars, prefix.unicodeScalars) {
            guard a == b else { break }
            common += 1
        }
        var rest = String.UnicodeScalarView()
        rest.append(contentsOf: text.unicodeScalars.dropFirst(common))
        return String(rest)
    }
}
