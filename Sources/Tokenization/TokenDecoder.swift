// Decoders: turn the token strings of an id sequence back into text. Ports Hugging Face `tokenizers`
// `decoders/byte_fallback.rs`, `fuse.rs`, `strip.rs`, `byte_level.rs`, `pre_tokenizers/metaspace.rs`
// (decoder half), `normalizers/replace.rs` (as a decoder) and `decoders/sequence.rs` @ 3ba8ad0. Each
// stage maps a list of token strings to a list of strings (`decode_chain`); the results are joined.

/// A decoder stage.
public indirect enum TokenDecoder: Sendable, Equatable {
    /// Replaces `pattern` with `content` in every token.
    case replace(pattern: String, content: String)
    /// Turns runs of `<0xHH>` tokens into the text their bytes spell (U+FFFD per byte if not valid UTF-8).
    case byteFallback
    /// Joins all tokens into one.
    case fuse
    /// Removes up to `start` leading and `stop` trailing `content` characters from every token.
    case strip(content: Unicode.Scalar, start: Int, stop: Int)
    /// Maps GPT-2 byte-alphabet characters back to bytes and decodes them as UTF-8 (lossy), all tokens at once.
    case byteLevel
    /// Turns `replacement` back into spaces; in the first token it is dropped when `prependScheme` is not `never`.
    case metaspace(replacement: Unicode.Scalar, prependScheme: PrependScheme)
    /// Applies each decoder in order.
    case sequence([TokenDecoder])

    /// Joins the result of `decodeChain`.
    public func decode(_ tokens: [String]) -> String { decodeChain(tokens).joined() }

    /// One stage over the token list (HF `Decoder::decode_chain`).
    public func decodeChain(_ tokens: [String]) -> [String] {
        switch self {
        case .replace(let pattern, let content):
            let p = Array(pattern.utf8), c = Array(content.utf8)
            return tokens.map { String(decoding: Normalizer.replacing(Array($0.utf8), p, with: c), as: UTF8.self) }
        case .byteFallback:
            var out: [String] = []
            var pending: [UInt8] = []
            func flush() {
                guard !pending.isEmpty else { return }
                if let s = String(validating: pending, as: UTF8.self) {
                    out.append(s)
                } else {
                    out.append(contentsOf: repeatElement("\u{FFFD}", count: pending.count))
                }
                pending.removeAll()
            }
            for t in tokens {
                if let b = TokenDecoder.fallbackByte(t) {
                    pending.append(b)
                } else {
                    flush()
                    out.append(t)
                }
            }
            flush()
            return out
        case .fuse:
            return [tokens.joined()]
        case .strip(let content, let start, let stop):
            return tokens.map { t in
                var scalars = Array(t.unicodeScalars)
                var lead = 0
                while lead < start && lead < scalars.count && scalars[lead] == content { lead += 1 }
                var trail = 0
                while trail < stop && trail < scalars.count - lead && scalars[scalars.count - 1 - trail] == content { trail += 1 }
                scalars = Array(scalars[lead..<(scalars.count - trail)])
                var s = String.UnicodeScalarView()
                s.append(contentsOf: scalars)
                return String(s)
            }
        case .byteLevel:
            var bytes: [UInt8] = []
            for t in tokens {
                if let b = ByteLevelAlphabet.bytes(of: t) { bytes.append(contentsOf: b) } else { bytes.append(contentsOf: t.utf8) }
            }
            return [String(decoding: bytes, as: UTF8.self)]
        case .metaspace(let replacement, let scheme):
            return tokens.enumerated().map { i, t in
                var s = String.UnicodeScalarView()
                for u in t.unicodeScalars {
                    if u == replacement {
                        if i == 0 && scheme != .never { continue }
                        s.append(" ")
                    } else {
                        s.append(u)
                    }
                }
                return String(s)
            }
        case .sequence(let list):
            var t = tokens
            for d in list { t = d.decodeChain(t) }
            return t
        }
    }

    /// The byte of a `<0xHH>` token (either hex case, as Rust's `from_str_radix`), else nil.
    static func fallbackByte(_ t: String) -> UInt8? {
        let u = Array(t.utf8)
        guard u.count == 6, u[0] == 0x3C, u[1] == 0x30, u[2] == 0x78, u[5] == 0x3E else { return nil }
        return UInt8(String(decoding: u[3..<5], as: UTF8.self), radix: 16)
    }
}
