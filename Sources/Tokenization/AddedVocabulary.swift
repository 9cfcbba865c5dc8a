// Added tokens: strings matched whole in the input before the model sees it (`<s>`, `</s>`,
// `<|im_start|>`, SentencePiece user-defined symbols). Ports the matching of Hugging Face `tokenizers`
// `tokenizer/added_vocabulary.rs` @ 3ba8ad0 (Aho-Corasick, leftmost-longest) as a direct scan: at each
// position, the longest token starting there wins; the first position with a match wins.

/// One added token.
public struct AddedToken: Sendable, Equatable {
    /// The token's id.
    public let id: Int
    /// Its text.
    public let content: String
    /// Special tokens are matched only when special-token parsing is on, and are skipped by `decode` by default.
    public let special: Bool
    /// Matched on the normalized text (true) or on the raw input (false).
    public let normalized: Bool

    /// An added token.
    public init(id: Int, content: String, special: Bool, normalized: Bool) {
        self.id = id
        self.content = content
        self.special = special
        self.normalized = normalized
    }
}

/// A run of the input: text for the normalizer/model, or a matched added token.
enum Segment: Equatable {
    case text(Range<Int>)
    case token(Int32)
}

/// The added tokens of one matching stage (raw or normalized text), indexed by first byte.
struct AddedTokenMatcher: Sendable {
    /// (bytes, id, special) per token.
    private let tokens: [([UInt8], Int32, Bool)]
    /// Token indices by first byte, longest first.
    private let byFirstByte: [[Int]]

    init(_ list: [AddedToken]) {
        let toks = list.filter { !$0.content.isEmpty }.map { (Array($0.content.utf8), Int32($0.id), $0.special) }
        var table = [[Int]](repeating: [], count: 256)
        for (i, t) in toks.enumerated() { table[Int(t.0[0])].append(i) }
        for b in 0..<256 { table[b].sort { toks[$0].0.count > toks[$1].0.count || (toks[$0].0.count == toks[$1].0.count && $0 < $1) } }
        tokens = toks
        byFirstByte = table
    }

    var isEmpty: Bool { tokens.isEmpty }

    /// The segments of all of `bytes` (one text run, or none for empty text, when there are no tokens).
    func segments(_ bytes: [UInt8], includeSpecial: Bool) -> [Segment] {
        var out: [Segment] = []
        if isEmpty {
            if !bytes.isEmpty { out.append(.text(0..<bytes.count)) }
        } else {
            split(bytes, 0..<bytes.count, includeSpecial: includeSpecial, into: &out)
        }
        return out
    }

    /// Splits `bytes[range]` into text runs and tokens; special tokens only match when `includeSpecial`.
    func split(_ bytes: [UInt8], _ range: Range<Int>, includeSpecial: Bool, into out: inout [Segment]) {
        var textStart = range.lowerBound
        var i = range.lowerBound
        bytes.withUnsafeBufferPointer { p in
            while i < range.upperBound {
                var matched: Int? = nil
                for k in byFirstByte[Int(p[i])] {
                    let (t, _, special) = tokens[k]
                    if special && !includeSpecial { continue }
                    if i + t.count <= range.upperBound && (1..<t.count).allSatisfy({ p[i + $0] == t[$0] }) {
                        matched = k
                        break
                    }
                }
                if let k = matched {
                    if i > textStart { out.append(.text(textStart..<i)) }
                    out.append(.token(tokens[k].1))
                    i += tokens[k].0.count
                    textStart = i
                } else {
                    i += 1
                }
            }
        }
        if range.upperBound > textStart { out.append(.text(textStart..<range.upperBound)) }
    }
}
