// Pre-tokenizers: cut a normalized piece of text into the words the BPE model encodes one by one.
// Ports Hugging Face `tokenizers` `pre_tokenizers/byte_level.rs`, `metaspace.rs`, `digits.rs`,
// `split.rs` (the GPT-2 pattern, `Isolated`) and `sequence.rs` @ 3ba8ad0.

/// Text cut into words: a byte buffer and the word ranges in it, in order.
public struct PreTokenizedString {
    /// UTF-8 text (a byte-level pre-tokenizer leaves raw bytes here, which are the same).
    public var bytes: [UInt8]
    /// Word ranges into `bytes`, in order, non-empty, covering `bytes`.
    public var words: [Range<Int>]
    /// Whether the text starts at offset 0 of the original input (Metaspace `prepend_scheme: first`).
    public var atOrigin: Bool

    /// One word holding all of `bytes`.
    public init(_ bytes: [UInt8], atOrigin: Bool) {
        self.bytes = bytes
        self.words = bytes.isEmpty ? [] : [0..<bytes.count]
        self.atOrigin = atOrigin
    }
}

/// When Metaspace prepends its replacement character to a piece.
public enum PrependScheme: String, Sendable, Equatable {
    /// Every piece that does not start with it.
    case always
    /// Only the piece at the start of the input (not one that follows an added token).
    case first
    /// Never.
    case never
}

/// A pre-tokenizer.
public indirect enum PreTokenizer: Sendable, Equatable {
    /// HF `ByteLevel`: optionally prepend a space, optionally split with the GPT-2 regex; the byte
    /// mapping itself is implicit (the BPE model works on raw bytes).
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    /// HF `Split` with the GPT-2 regex and `Isolated` behaviour.
    case gpt2Split
    /// HF `Digits`: isolate every `\p{N}` scalar (`individual`) or every run of them.
    case digits(individual: Bool)
    /// HF `Metaspace`: spaces become `replacement`, which is prepended per `prependScheme`; with `split`, the
    /// text is cut before every `replacement`.
    case metaspace(replacement: String, prependScheme: PrependScheme, split: Bool)
    /// Applies each pre-tokenizer to the words of the previous one (HF `Sequence`).
    case sequence([PreTokenizer])

    /// Whether this pre-tokenizer maps text to GPT-2 byte-level symbols (the model must use `.bytes`).
    public var isByteLevel: Bool {
        switch self {
        case .byteLevel: true
        case .sequence(let list): list.contains { $0.isByteLevel }
        default: false
        }
    }

    /// Refines the words of `s`.
    public func apply(_ s: inout PreTokenizedString) {
        switch self {
        case .sequence(let list):
            for p in list { p.apply(&s) }
        case .digits(let individual):
            split(&s) { p, r, out in GPT2Split.splitDigits(p, r, individual: individual, into: &out) }
        case .gpt2Split:
            var scratch = GPT2Split.Scratch()
            split(&s) { p, r, out in GPT2Split.split(p, r, into: &out, scratch: &scratch) }
        case .byteLevel(let addPrefixSpace, let useRegex):
            if addPrefixSpace {
                rewrite(&s) { word, _ in if word.first != 0x20 { word.insert(0x20, at: 0) } }
            }
            if useRegex {
                var scratch = GPT2Split.Scratch()
                split(&s) { p, r, out in GPT2Split.split(p, r, into: &out, scratch: &scratch) }
            }
        case .metaspace(let replacement, let scheme, let doSplit):
            let rep = Array(replacement.utf8)
            rewrite(&s) { word, isFirst in
                word = Normalizer.replacing(word, [0x20], with: rep)
                let starts = word.starts(with: rep)
                switch scheme {
                case .always: if !starts { word.insert(contentsOf: rep, at: 0) }
                case .first: if !starts && isFirst { word.insert(contentsOf: rep, at: 0) }
                case .never: break
                }
            }
            if doSplit {
                split(&s) { p, r, out in
                    // MergedWithNext: every occurrence of the replacement starts a new word.
                    var start = r.lowerBound
                    var i = r.lowerBound
                    while i + rep.count <= r.upperBound {
                        if i > start && p[i] == rep[0] && (1..<rep.count).allSatisfy({ p[i + $0] == rep[$0] }) {
                            out.append(start..<i)
                            start = i
                            i += rep.count
                        } else {
                            i += 1
                        }
                    }
                    if r.upperBound > start { out.append(start..<r.upperBound) }
                }
            }
        }
    }

    /// Replaces each word by the ranges `body` appends for it (which must cover the word in order).
    private func split(_ s: inout PreTokenizedString,
                       _ body: (UnsafeBufferPointer<UInt8>, Range<Int>, inout [Range<Int>]) -> Void) {
        var out: [Range<Int>] = []
        out.reserveCapacity(s.words.count * 2)
        let words = s.words
        s.bytes.withUnsafeBufferPointer { p in
            for w in words { body(p, w, &out) }
        }
        s.words = out
    }

    /// Rewrites each word's bytes (`isFirst`: the word starts the original input), rebuilding the buffer.
    private func rewrite(_ s: inout PreTokenizedString, _ body: (inout [UInt8], Bool) -> Void) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(s.bytes.count + s.words.count)
        var words: [Range<Int>] = []
        words.reserveCapacity(s.words.count)
        for (k, w) in s.words.enumerated() {
            var word = Array(s.bytes[w])
            body(&word, k == 0 && w.lowerBound == 0 && s.atOrigin)
            guard !word.isEmpty else { continue }
            words.append(bytes.count..<(bytes.count + word.count))
            bytes.append(contentsOf: word)
        }
        s.bytes = bytes
        s.words = words
    }
}
