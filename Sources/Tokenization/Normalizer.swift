// Normalizers: text rewrites applied to each piece of text between added tokens, before
// pre-tokenization. Ports Hugging Face `tokenizers` `normalizers/prepend.rs`, `normalizers/replace.rs`
// (String patterns), `normalizers/mod.rs` (`Sequence`) @ 3ba8ad0, plus SentencePiece's
// `remove_extra_whitespaces` (`src/normalizer.cc` @ 2734490). Pieces are UTF-8 byte arrays.

/// A text normalizer.
public indirect enum Normalizer: Sendable, Equatable {
    /// Prepends `text` to a non-empty piece (HF `Prepend`).
    case prepend(String)
    /// Replaces every occurrence of `pattern` with `content`, left to right (HF `Replace` with a String pattern).
    case replace(pattern: String, content: String)
    /// Removes leading and trailing spaces (U+0020) and collapses runs of spaces into one
    /// (SentencePiece `remove_extra_whitespaces` with an identity character map).
    case squeezeSpaces
    /// Applies each normalizer in order (HF `Sequence`).
    case sequence([Normalizer])

    /// Normalizes `piece` (UTF-8) in place.
    public func apply(_ piece: inout [UInt8]) {
        switch self {
        case .prepend(let text):
            if !piece.isEmpty { piece.insert(contentsOf: text.utf8, at: 0) }
        case .replace(let pattern, let content):
            piece = Normalizer.replacing(piece, Array(pattern.utf8), with: Array(content.utf8))
        case .squeezeSpaces:
            var out: [UInt8] = []
            out.reserveCapacity(piece.count)
            var pendingSpace = false
            for b in piece {
                if b == 0x20 {
                    pendingSpace = !out.isEmpty
                } else {
                    if pendingSpace { out.append(0x20) }
                    pendingSpace = false
                    out.append(b)
                }
            }
            piece = out
        case .sequence(let list):
            for n in list { n.apply(&piece) }
        }
    }

    /// `bytes` with every non-overlapping occurrence of `pattern` (scanning left to right) replaced.
    static func replacing(_ bytes: [UInt8], _ pattern: [UInt8], with content: [UInt8]) -> [UInt8] {
        guard !pattern.isEmpty, bytes.count >= pattern.count else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 4)
        let first = pattern[0]
        var i = 0
        let n = bytes.count, m = pattern.count
        while i < n {
            if bytes[i] == first && i + m <= n {
                var k = 1
                while k < m && bytes[i + k] == pattern[k] { k += 1 }
                if k == m {
                    out.append(contentsOf: content)
                    i += m
                    continue
                }
            }
            out.append(bytes[i])
            i += 1
        }
        return out
    }
}
