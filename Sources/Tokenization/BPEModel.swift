// The BPE model shared by every tokenizer family: vocabulary keyed by bytes, a merge table
// (left id, right id) → (priority, merged id), and the per-word merge loop with a min-heap ordered by
// (priority, position). Ports Hugging Face `tokenizers` `models/bpe/model.rs` (`merge_word`,
// `word_to_tokens`) and `models/bpe/word.rs` (`merge_all`) @ 3ba8ad0; SentencePiece's score-driven BPE
// (`src/bpe_model.cc` `Model::SampleEncode` @ 2734490) is the same loop with priorities derived from
// the piece scores plus the two SentencePiece-only rules (`deferUnknown`, `unusedIds`).
//
// Vocabulary keys are UTF-8 (or, for byte-level vocabularies, raw) bytes, never `String`: Swift's String
// equality is canonical equivalence, so "é" and "e\u{301}" would collide.

/// A BPE vocabulary with its merge table.
public struct BPEModel: Sendable {
    /// How a word is cut into initial symbols.
    public enum Alphabet: Sendable, Equatable {
        /// One symbol per Unicode scalar (SentencePiece-style vocabularies with `▁`).
        case unicodeScalars
        /// One symbol per byte; vocabulary strings are spelled in the GPT-2 byte alphabet
        /// (`ByteLevelAlphabet`) and stored here as the raw bytes they stand for.
        case bytes
    }

    /// How a word is cut into initial symbols.
    public let alphabet: Alphabet
    /// Number of real token ids (0..<count).
    public let count: Int
    /// `tokenBytes[id]`: the bytes of token `id` in the model's alphabet (raw bytes for `.bytes`); nil for a
    /// hole in the id range or a byte-level token spelled outside the byte alphabet.
    let tokenBytes: [[UInt8]?]
    /// Bytes → id, for every token in `tokenBytes`.
    let vocab: [[UInt8]: Int32]
    /// `(UInt64(left) << 32) | right` → `(UInt64(priority) << 32) | merged`.
    let merges: [UInt64: UInt64]
    /// Initial symbol of a one-byte scalar (`.unicodeScalars`) or of a byte (`.bytes`); -1 when absent.
    let singleByteSymbol: [Int32]
    /// Initial symbol of a multi-byte scalar (`.unicodeScalars` only). Ids ≥ `count` are pseudo-symbols:
    /// characters that are not tokens but occur in merged pieces (SentencePiece only).
    let scalarSymbol: [UInt32: Int32]
    /// `<0xHH>` token of each byte, -1 when absent; nil without byte fallback.
    let byteFallback: [Int32]?
    /// The unknown token, if any.
    let unkId: Int32?
    /// Merge consecutive unknown characters into one unknown token (HF `fuse_unk`).
    let fuseUnk: Bool
    /// Emit a word that is itself a token without merging (HF `ignore_merges`, Llama-3).
    let ignoreMerges: Bool
    /// SentencePiece rule: an unknown character stays a symbol through the merge loop and becomes byte
    /// fallback (or unk) afterwards; HF converts it before merging.
    let deferUnknown: Bool
    /// SentencePiece UNUSED pieces: a merge result of this kind is split back into its two parts.
    let unusedIds: Set<Int32>

    /// Builds a model from token bytes and a merge table (already resolved to ids).
    /// - Parameters:
    ///   - tokenBytes: `[id] → bytes` in the alphabet's terms (nil for holes).
    ///   - merges: `(left, right) → (priority, merged id)`; lower priority merges first.
    ///   - pseudoSymbols: extra initial symbols (scalar value → pseudo id ≥ count), SentencePiece only.
    ///   - isSymbol: which ids may be initial symbols (nil: all); SentencePiece excludes control, unknown and
    ///     byte pieces.
    init(alphabet: Alphabet, tokenBytes: [[UInt8]?], merges: [UInt64: UInt64], pseudoSymbols: [UInt32: Int32] = [:],
         isSymbol: [Bool]? = nil,
         byteFallback: Bool, unkId: Int32?, fuseUnk: Bool, ignoreMerges: Bool, deferUnknown: Bool = false,
         unusedIds: Set<Int32> = []) {
        self.alphabet = alphabet
        self.count = tokenBytes.count
        self.tokenBytes = tokenBytes
        var vocab: [[UInt8]: Int32] = [:]
        vocab.reserveCapacity(tokenBytes.count)
        var single = [Int32](repeating: -1, count: 256)
        var scalars = pseudoSymbols
        for (id, b) in tokenBytes.enumerated() {
            guard let b, !b.isEmpty else { continue }
            vocab[b] = Int32(id)
            if let isSymbol, !isSymbol[id] { continue }
            switch alphabet {
            case .bytes:
                if b.count == 1 { single[Int(b[0])] = Int32(id) }
            case .unicodeScalars:
                if b.count == 1 {
                    single[Int(b[0])] = Int32(id)
                } else if b.count == UTF8Scan.length(leadByte: b[0]) {
                    let v = b.withUnsafeBufferPointer { UTF8Scan.decode($0, at: 0) }
                    if v.length == b.count { scalars[v.value] = Int32(id) }
                }
            }
        }
        for (v, id) in pseudoSymbols where v < 0x80 { single[Int(v)] = id }
        self.vocab = vocab
        self.merges = merges
        self.singleByteSymbol = single
        self.scalarSymbol = scalars
        if byteFallback {
            var table = [Int32](repeating: -1, count: 256)
            for b in 0..<256 {
                if let id = vocab[Array(BPEModel.byteFallbackName(UInt8(b)).utf8)] { table[b] = id }
            }
            self.byteFallback = table
        } else {
            self.byteFallback = nil
        }
        self.unkId = unkId
        self.fuseUnk = fuseUnk
        self.ignoreMerges = ignoreMerges
        self.deferUnknown = deferUnknown
        self.unusedIds = unusedIds
    }

    /// The byte-fallback token name of `b`: `<0xHH>` with uppercase hex.
    public static func byteFallbackName(_ b: UInt8) -> String {
        let hex = Array("0123456789ABCDEF")
        return "<0x\(hex[Int(b >> 4)])\(hex[Int(b & 15)])>"
    }

    /// The id of the token spelled by `bytes` (in the model's alphabet), if any.
    public func id(of bytes: [UInt8]) -> Int? { vocab[bytes].map(Int.init) }

    @inline(__always)
    static func pairKey(_ a: Int32, _ b: Int32) -> UInt64 {
        (UInt64(UInt32(bitPattern: a)) << 32) | UInt64(UInt32(bitPattern: b))
    }

    // MARK: Encoding one word

    /// One symbol of a word during merging (a doubly linked list over an array).
    struct Symbol {
        var id: Int32
        var prev: Int32
        var next: Int32
        /// Byte offset of the symbol in the word buffer.
        var start: Int32
        /// Byte length; 0 marks a symbol merged into its left neighbour.
        var length: Int32
    }

    /// Reusable buffers for `encodeWord`, so encoding many words allocates little.
    public struct Scratch {
        var symbols: [Symbol] = []
        var heap = MergeHeap()
        var revMerge: [Int32: (Int32, Int32)] = [:]
        /// Creates empty buffers.
        public init() {}
    }

    /// Appends the ids of the word `p[range]` to `out`.
    /// - Parameter p: the word's buffer: UTF-8 for `.unicodeScalars`, raw bytes for `.bytes`.
    public func encodeWord(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into out: inout [Int32], scratch: inout Scratch) {
        guard !range.isEmpty else { return }
        if ignoreMerges, let id = vocab[Array(p[range])] {
            out.append(id)
            return
        }
        var symbols = scratch.symbols
        symbols.removeAll(keepingCapacity: true)
        defer { scratch.symbols = symbols }
        initialSymbols(p, range, into: &symbols)
        if symbols.count > 1 { mergeAll(&symbols, scratch: &scratch) }
        var i: Int32 = symbols.isEmpty ? -1 : 0
        while i >= 0 {
            let s = symbols[Int(i)]
            emit(s, p, into: &out, revMerge: scratch.revMerge)
            i = s.next
        }
        if !scratch.revMerge.isEmpty { scratch.revMerge.removeAll(keepingCapacity: true) }
    }

    /// Cuts `p[range]` into initial symbols (HF `merge_word` before the merge loop).
    private func initialSymbols(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into symbols: inout [Symbol]) {
        var i = range.lowerBound
        var pendingUnk = false
        func push(_ id: Int32, _ start: Int, _ length: Int) {
            let n = Int32(symbols.count)
            symbols.append(Symbol(id: id, prev: n - 1, next: -1, start: Int32(start), length: Int32(length)))
            if n > 0 { symbols[Int(n) - 1].next = n }
        }
        while i < range.upperBound {
            let b = p[i]
            var length = 1
            var id: Int32
            if alphabet == .bytes || b < 0x80 {
                id = singleByteSymbol[Int(b)]
            } else {
                let (v, n) = UTF8Scan.decode(p, at: i)
                length = min(n, range.upperBound - i)
                id = scalarSymbol[v] ?? -1
            }
            if id >= 0 || deferUnknown {
                push(id, i, length)
                pendingUnk = false
            } else if let fb = byteFallback, (i..<(i + length)).allSatisfy({ fb[Int(p[$0])] >= 0 }) {
                for k in i..<(i + length) { push(fb[Int(p[k])], k, 1) }
                pendingUnk = false
            } else if let unk = unkId {
                if fuseUnk && pendingUnk {
                    symbols[symbols.count - 1].length += Int32(length)
                } else {
                    push(unk, i, length)
                    pendingUnk = true
                }
            }
            i += length
        }
    }

    /// The merge loop (HF `Word::merge_all`): pop the lowest (priority, position) pair, skip it if stale,
    /// merge, and queue the new pairs with both neighbours.
    private func mergeAll(_ symbols: inout [Symbol], scratch: inout Scratch) {
        var heap = scratch.heap
        heap.removeAll()
        defer { scratch.heap = heap }
        let trackUnused = !unusedIds.isEmpty
        symbols.withUnsafeMutableBufferPointer { s in
            for i in 0..<(s.count - 1) {
                if let m = merges[BPEModel.pairKey(s[i].id, s[i + 1].id)] {
                    heap.push(priority: UInt32(truncatingIfNeeded: m >> 32), position: Int32(i), merged: Int32(truncatingIfNeeded: m))
                }
            }
            while let top = heap.pop() {
                let pos = Int(top.position)
                if s[pos].length == 0 || s[pos].next < 0 { continue }
                let nextPos = Int(s[pos].next)
                let right = s[nextPos]
                guard let m = merges[BPEModel.pairKey(s[pos].id, right.id)], Int32(truncatingIfNeeded: m) == top.merged
                else { continue }
                if trackUnused, unusedIds.contains(top.merged) { scratch.revMerge[top.merged] = (s[pos].id, right.id) }
                s[pos].id = top.merged
                s[pos].length += right.length
                s[pos].next = right.next
                s[nextPos].length = 0
                if right.next >= 0 { s[Int(right.next)].prev = Int32(pos) }
                let prev = s[pos].prev
                if prev >= 0, let m = merges[BPEModel.pairKey(s[Int(prev)].id, top.merged)] {
                    heap.push(priority: UInt32(truncatingIfNeeded: m >> 32), position: prev, merged: Int32(truncatingIfNeeded: m))
                }
                let next = s[pos].next
                if next >= 0, let m = merges[BPEModel.pairKey(top.merged, s[Int(next)].id)] {
                    heap.push(priority: UInt32(truncatingIfNeeded: m >> 32), position: Int32(pos), merged: Int32(truncatingIfNeeded: m))
                }
            }
        }
    }

    /// Emits the ids of one final symbol: the token itself, its SentencePiece resegmentation, or (for a
    /// deferred unknown character) its byte-fallback tokens / unk.
    private func emit(_ s: Symbol, _ p: UnsafeBufferPointer<UInt8>, into out: inout [Int32], revMerge: [Int32: (Int32, Int32)]) {
        if s.id >= 0 && Int(s.id) < count {
            if unusedIds.isEmpty || !unusedIds.contains(s.id) {
                out.append(s.id)
            } else {
                resegment(s.id, into: &out, revMerge: revMerge, depth: 0)
            }
            return
        }
        // A character that is not a token (SentencePiece keeps it as a symbol until here).
        let bytes = Int(s.start)..<Int(s.start + s.length)
        if let fb = byteFallback, bytes.allSatisfy({ fb[Int(p[$0])] >= 0 }) {
            for k in bytes { out.append(fb[Int(p[k])]) }
        } else if let unk = unkId {
            out.append(unk)
        }
    }

    /// SentencePiece `resegment`: an UNUSED piece is replaced by the two symbols it was merged from.
    private func resegment(_ id: Int32, into out: inout [Int32], revMerge: [Int32: (Int32, Int32)], depth: Int) {
        guard unusedIds.contains(id), let (l, r) = revMerge[id], depth < 64 else {
            out.append(id)
            return
        }
        resegment(l, into: &out, revMerge: revMerge, depth: depth + 1)
        resegment(r, into: &out, revMerge: revMerge, depth: depth + 1)
    }
}

/// A binary min-heap of pending merges ordered by (priority, position), as HF's `BinaryHeap<Merge>`.
struct MergeHeap {
    struct Entry {
        /// `(priority << 32) | position`: one comparison orders by priority, then leftmost position.
        var key: UInt64
        var merged: Int32
        var position: Int32 { Int32(truncatingIfNeeded: key & 0xFFFF_FFFF) }
    }

    private(set) var entries: [Entry] = []

    mutating func removeAll() { entries.removeAll(keepingCapacity: true) }

    mutating func push(priority: UInt32, position: Int32, merged: Int32) {
        var i = entries.count
        entries.append(Entry(key: (UInt64(priority) << 32) | UInt64(UInt32(bitPattern: position)), merged: merged))
        let e = entries[i]
        entries.withUnsafeMutableBufferPointer { h in
            while i > 0 {
                let parent = (i - 1) >> 1
                if h[parent].key <= e.key { break }
                h[i] = h[parent]
                i = parent
            }
            h[i] = e
        }
    }

    mutating func pop() -> Entry? {
        guard let last = entries.popLast() else { return nil }
        if entries.isEmpty { return last }
        let top = entries[0]
        entries.withUnsafeMutableBufferPointer { h in
            let n = h.count
            var i = 0
            while true {
                var c = 2 * i + 1
                if c >= n { break }
                if c + 1 < n && h[c + 1].key < h[c].key { c += 1 }
                if last.key <= h[c].key { break }
                h[i] = h[c]
                i = c
            }
            h[i] = last
        }
        return top
    }
}
