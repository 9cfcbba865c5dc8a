// Streaming decode: the pieces emitted token by token join to exactly `decode` of the whole sequence,
// never split a UTF-8 character (no U+FFFD where the whole text has none), and continue a context (the
// prompt) with the right spacing. Uses the toy tokenizers' cases (byte-level BPE, SentencePiece with
// byte fallback, Metaspace variants) and, when present, the SmolLM2 GGUF vocabulary.
import Conversion
import TensorCore
import Testing
import TestSupport
import Tokenization

@Suite struct StreamingDetokenizerTests {
    static let toyTokenizers = ["toy-sp/tokenizer.json", "toy-sp/metaspace-first.json", "toy-sp/metaspace-split.json",
                                "toy-bytelevel/smollm.json", "toy-bytelevel/gpt2-prefix.json", "toy-bytelevel/split-digits.json",
                                "toy-sp/tokenizer.model"]

    /// Streams `ids` after `context`; returns the pieces (the last one from `finish`) and how many
    /// tokens were held back because they ended inside a character.
    static func stream(_ t: any Tokenizer, _ ids: [Int], context: [Int] = []) -> (pieces: [String], heldBack: Int) {
        var s = StreamingDetokenizer(tokenizer: t, context: context)
        var pieces: [String] = []
        var held = 0
        for id in ids {
            let p = s.append(id)
            if p.isEmpty && !t.decode([id]).isEmpty { held += 1 }
            pieces.append(p)
        }
        pieces.append(s.finish())
        return (pieces, held)
    }

    @Test(arguments: toyTokenizers)
    func piecesJoinToTheWholeDecode(_ name: String) throws {
        let t = try TokenizerLoader.load(TokenizationFixtures.path(name))
        let cases = TokenizationFixtures.cases(name)
        #expect(cases.count > 40)
        var held = 0
        for c in cases {
            let ids = c.special ?? c.plain
            let whole = t.decode(ids)
            let r = Self.stream(t, ids)
            held += r.heldBack
            #expect(r.pieces.joined() == whole, "\(name) \(c.text.debugDescription)")
            if !whole.unicodeScalars.contains("\u{FFFD}") {
                #expect(!r.pieces.contains { $0.unicodeScalars.contains("\u{FFFD}") }, "\(name) \(c.text.debugDescription): a piece split a character")
            }
            // Continuing a prompt: cut where the prompt's text is complete; prompt text + pieces = whole text.
            for k in stride(from: 1, to: ids.count, by: max(1, ids.count / 4)) {
                let head = t.decode(Array(ids[..<k]))
                if head.unicodeScalars.last == "\u{FFFD}" { continue }
                let tail = Self.stream(t, Array(ids[k...]), context: Array(ids[..<k])).pieces.joined()
                #expect(head + tail == whole, "\(name) \(c.text.debugDescription) cut at \(k): \((head + tail).debugDescription) vs \(whole.debugDescription)")
            }
        }
        // The cases include emoji and CJK that these small vocabularies spell in bytes.
        #expect(held > 0, "\(name): no token ever ended inside a character, so the test checked nothing")
    }

    /// A token that completes a character emits it; an unfinished character at the end is flushed as
    /// U+FFFD, as `decode` shows it.
    @Test func unfinishedCharacterAtTheEnd() throws {
        let t = try TokenizerLoader.load(TokenizationFixtures.path("toy-bytelevel/smollm.json"))
        let ids = t.encode("a🎉", addSpecialTokens: false, parseSpecial: false)
        #expect(ids.count >= 3, "🎉 should take several byte tokens: \(ids)")
        var s = StreamingDetokenizer(tokenizer: t)
        #expect(s.append(ids[0]) == "a")
        for id in ids[1..<(ids.count - 1)] { #expect(s.append(id) == "") }
        var early = s
        #expect(early.finish() == String(t.decode(Array(ids.dropLast())).dropFirst()))
        #expect(s.append(ids.last!) == "🎉")
        #expect(s.finish() == "")
    }

    @Test(.enabled(if: Fixtures.smollm2Available, Comment(rawValue: Fixtures.smollm2MissingReason)))
    func smolLM2Vocabulary() throws {
        let t = try CheckpointTokenizer.load(Fixtures.smollm2GGUF)
        let text = "Naïve café — 日本語のテキスト、Ελληνικά, emoji 🎉🧪👩‍👩‍👧 and\ttabs\n\nnew lines."
        let ids = t.encode(text, addSpecialTokens: false, parseSpecial: false)
        let r = Self.stream(t, ids)
        #expect(r.pieces.joined() == text)
        #expect(r.heldBack > 0)
        #expect(!r.pieces.contains { $0.unicodeScalars.contains("\u{FFFD}") })
    }
}
