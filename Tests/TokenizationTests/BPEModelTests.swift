// The heap-based merge loop against the definition it implements: "repeatedly merge the adjacent pair
// with the lowest priority, leftmost first" (formats.md §9.3), on random vocabularies and words; the
// SentencePiece variant (tied priorities from equal scores, unknown characters kept until the end,
// UNUSED pieces split back) on hand-made models.
import TensorCore
import Testing
@testable import Tokenization

@Suite struct BPEModelTests {
    /// The definition: scan for the lowest (priority, position) pair, merge it, repeat.
    func naive(_ symbols: [Int32], _ merges: [UInt64: UInt64]) -> [Int32] {
        var s = symbols
        while true {
            var best: (UInt64, Int, Int32)? = nil
            for i in 0..<max(0, s.count - 1) {
                guard let m = merges[BPEModel.pairKey(s[i], s[i + 1])] else { continue }
                let p = m >> 32
                if best == nil || p < best!.0 { best = (p, i, Int32(truncatingIfNeeded: m)) }
            }
            guard let (_, i, merged) = best else { return s }
            s[i] = merged
            s.remove(at: i + 1)
        }
    }

    /// A random BPE vocabulary over "abcd": each new token joins two existing ones.
    func randomModel(_ rng: inout SeededRNG, mergeCount: Int, tiedPriorities: Bool) -> (BPEModel, [[UInt8]]) {
        var tokens: [[UInt8]] = [[0x61], [0x62], [0x63], [0x64]]
        var index: [[UInt8]: Int32] = [[0x61]: 0, [0x62]: 1, [0x63]: 2, [0x64]: 3]
        var merges: [UInt64: UInt64] = [:]
        for rank in 0..<mergeCount {
            let a = Int32(rng.nextInt(below: tokens.count)), b = Int32(rng.nextInt(below: tokens.count))
            let key = BPEModel.pairKey(a, b)
            if merges[key] != nil { continue }
            let joined = tokens[Int(a)] + tokens[Int(b)]
            guard joined.count <= 8 else { continue }
            let id: Int32
            if let existing = index[joined] { id = existing } else {
                id = Int32(tokens.count)
                tokens.append(joined)
                index[joined] = id
            }
            let priority = tiedPriorities ? UInt64(rank / 3) : UInt64(rank)
            merges[key] = (priority << 32) | UInt64(UInt32(id))
        }
        let model = BPEModel(alphabet: .unicodeScalars, tokenBytes: tokens, merges: merges, byteFallback: false,
                             unkId: nil, fuseUnk: false, ignoreMerges: false)
        return (model, tokens)
    }

    @Test(arguments: [false, true])
    func heapMergeEqualsTheDefinition(tiedPriorities: Bool) {
        var rng = SeededRNG(seed: tiedPriorities ? 7 : 11)
        var scratch = BPEModel.Scratch()
        for _ in 0..<40 {
            let (model, _) = randomModel(&rng, mergeCount: 60, tiedPriorities: tiedPriorities)
            for _ in 0..<50 {
                let word = (0..<(1 + rng.nextInt(below: 40))).map { _ in UInt8(0x61 + rng.nextInt(below: 4)) }
                var got: [Int32] = []
                word.withUnsafeBufferPointer { model.encodeWord($0, 0..<word.count, into: &got, scratch: &scratch) }
                let want = naive(word.map { Int32($0 - 0x61) }, model.merges)
                #expect(got == want, "word \(String(decoding: word, as: UTF8.self))")
            }
        }
    }

    func encode(_ model: BPEModel, _ s: String) -> [Int] {
        var out: [Int32] = []
        var scratch = BPEModel.Scratch()
        let b = Array(s.utf8)
        b.withUnsafeBufferPointer { model.encodeWord($0, 0..<b.count, into: &out, scratch: &scratch) }
        return out.map(Int.init)
    }

    /// HF rules: unknown characters become byte-fallback tokens before merging, or (fused) unk.
    @Test func byteFallbackAndFusedUnknowns() throws {
        let tokens: [[UInt8]?] = [Array("<unk>".utf8), Array("a".utf8), Array("b".utf8), Array("ab".utf8), Array("<0xC3>".utf8), Array("<0xA9>".utf8)]
        let merges: [UInt64: UInt64] = [BPEModel.pairKey(1, 2): 3]
        let fb = BPEModel(alphabet: .unicodeScalars, tokenBytes: tokens, merges: merges, byteFallback: true, unkId: 0, fuseUnk: true, ignoreMerges: false)
        #expect(encode(fb, "abé") == [3, 4, 5])
        #expect(encode(fb, "a€€b") == [1, 0, 2])  // no <0xE2> token: unk, fused
        let noFuse = BPEModel(alphabet: .unicodeScalars, tokenBytes: tokens, merges: merges, byteFallback: false, unkId: 0, fuseUnk: false, ignoreMerges: false)
        #expect(encode(noFuse, "a€€b") == [1, 0, 0, 2])
        let dropping = BPEModel(alphabet: .unicodeScalars, tokenBytes: tokens, merges: merges, byteFallback: false, unkId: nil, fuseUnk: false, ignoreMerges: false)
        #expect(encode(dropping, "a€b") == [3])
    }

    @Test func ignoreMergesEmitsWholeWordTokens() {
        // "abc" is a token, but the merges alone would give "a" + "bc".
        let tokens: [[UInt8]?] = [Array("a".utf8), Array("b".utf8), Array("c".utf8), Array("bc".utf8), Array("abc".utf8)]
        let merges: [UInt64: UInt64] = [BPEModel.pairKey(1, 2): 3]
        let plain = BPEModel(alphabet: .unicodeScalars, tokenBytes: tokens, merges: merges, byteFallback: false, unkId: nil, fuseUnk: false, ignoreMerges: false)
        let ignoring = BPEModel(alphabet: .unicodeScalars, tokenBytes: tokens, merges: merges, byteFallback: false, unkId: nil, fuseUnk: false, ignoreMerges: true)
        #expect(encode(plain, "abc") == [0, 3])
        #expect(encode(ignoring, "abc") == [4])
        #expect(encode(ignoring, "abcb") == [0, 3, 1])
    }

    /// A hand-made SentencePiece model: scores decide the merge order, "x" is no piece but "xa" is (it merges
    /// through a pseudo-symbol), "q" is unknown (byte fallback after merging), "ab" is UNUSED (split back).
    @Test func sentencePieceRules() throws {
        var m = SentencePieceModel()
        m.modelType = .bpe
        m.byteFallback = true
        m.addDummyPrefix = false
        m.removeExtraWhitespaces = false
        m.pieces = [SentencePieceModel.Piece(piece: "<unk>", score: 0, type: .unknown),
                    SentencePieceModel.Piece(piece: "<s>", score: 0, type: .control),
                    SentencePieceModel.Piece(piece: "</s>", score: 0, type: .control)]
        m.pieces += (0..<256).map { SentencePieceModel.Piece(piece: BPEModel.byteFallbackName(UInt8($0)), score: 0, type: .byte) }
        let base = m.pieces.count
        m.pieces += [SentencePieceModel.Piece(piece: "a", score: -1, type: .normal),      // base
                     SentencePieceModel.Piece(piece: "b", score: -1, type: .normal),      // base+1
                     SentencePieceModel.Piece(piece: "c", score: -1, type: .normal),      // base+2
                     SentencePieceModel.Piece(piece: "bc", score: -2, type: .normal),     // base+3
                     SentencePieceModel.Piece(piece: "ab", score: -3, type: .normal),     // base+4
                     SentencePieceModel.Piece(piece: "abc", score: -4, type: .normal),    // base+5
                     SentencePieceModel.Piece(piece: "xa", score: -2, type: .normal),     // base+6
                     SentencePieceModel.Piece(piece: "cc", score: -5, type: .unused)]     // base+7
        let tok = try m.tokenizer(addBOS: false, file: "test")
        func ids(_ s: String) -> [Int] { tok.encode(s, addSpecialTokens: false, parseSpecial: false) }
        #expect(ids("abc") == [base + 5])                  // bc (-2) first, then a+bc = abc
        #expect(ids("ab") == [base + 4])
        #expect(ids("xab") == [base + 6, base + 1])        // x+a merges (-2) before a+b (-3)
        #expect(ids("x") == [3 + 0x78])                    // an unmerged unknown character falls back to bytes
        #expect(ids("qa") == [3 + 0x71, base])
        #expect(ids("cc") == [base + 2, base + 2])          // UNUSED piece split back into its parts
        #expect(tok.encode("abc", addSpecialTokens: true, parseSpecial: false) == [base + 5])
    }
}
