// The pipeline stages one by one: character classes, the hand-written GPT-2 regex, Digits, Metaspace,
// the byte-level alphabet, normalizers, decoders, added-token matching. Expected splits are what Hugging
// Face tokenizers 0.23.3 gives (`pre_tokenize_str` of Split(GPT-2 regex, isolated), Digits, Metaspace).
import Testing
@testable import Tokenization

@Suite struct PipelineStageTests {
    /// Splits `s` with `pre` and returns the words as strings.
    func words(_ pre: PreTokenizer, _ s: String, atOrigin: Bool = true) -> [String] {
        var p = PreTokenizedString(Array(s.utf8), atOrigin: atOrigin)
        pre.apply(&p)
        return p.words.map { String(decoding: p.bytes[$0], as: UTF8.self) }
    }

    @Test func characterClassesFollowOniguruma() {
        func cls(_ v: UInt32) -> ScalarClass { ScalarClass.of(Unicode.Scalar(v)!) }
        for v: UInt32 in [0x41, 0x7A, 0xE9, 0x01C5, 0x02B0, 0x65E5, 0xD55C, 0x0416] { #expect(cls(v) == .letter, "U+\(String(v, radix: 16))") }
        for v: UInt32 in [0x30, 0x39, 0x0663, 0x00B2, 0x00BD, 0x216B] { #expect(cls(v) == .number, "U+\(String(v, radix: 16))") }
        for v: UInt32 in [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000] {
            #expect(cls(v) == .whitespace, "U+\(String(v, radix: 16))")
        }
        // Not \s in Oniguruma although Python's str.isspace says so (U+001C…U+001F), and format/mark characters.
        for v: UInt32 in [0x00, 0x1C, 0x1F, 0x7F, 0x200B, 0xFEFF, 0x0301, 0xFE0F, 0x27, 0x2014, 0x1F600] {
            #expect(cls(v) == .other, "U+\(String(v, radix: 16))")
        }
    }

    @Test func gpt2RegexMatchesTokenizers() {
        let cases: [(String, [String])] = [
            ("Hello, world! It's 2024.", ["Hello", ",", " world", "!", " It", "'s", " 2024", "."]),
            ("  a  \n\n b\t", [" ", " a", "  \n\n", " b", "\t"]),
            ("x'S 'll'd  'x", ["x", "'", "S", " '", "ll", "'d", " ", " '", "x"]),
            ("e\u{301}t\u{E9} \u{A0}\u{A0}z", ["e", "\u{301}", "t\u{E9}", " \u{A0}", "\u{A0}", "z"]),
            ("a\u{2028}b\u{85}c \u{3000}d", ["a", "\u{2028}", "b", "\u{85}", "c", " ", "\u{3000}", "d"]),
            ("\u{663}\u{664}x\u{B2} \u{216B}", ["\u{663}\u{664}", "x", "\u{B2}", " \u{216B}"]),
            ("  ", ["  "]),
            ("", []),
        ]
        for (s, want) in cases { #expect(words(.gpt2Split, s) == want, "\(s.debugDescription)") }
    }

    @Test func digitsIndividualAndContiguous() {
        #expect(words(.digits(individual: true), "a123b4 56") == ["a", "1", "2", "3", "b", "4", " ", "5", "6"])
        #expect(words(.digits(individual: false), "a123b4 56") == ["a", "123", "b", "4", " ", "56"])
        #expect(words(.digits(individual: true), "\u{663}\u{664}x\u{B2}") == ["\u{663}", "\u{664}", "x", "\u{B2}"])
        #expect(words(.digits(individual: false), "\u{663}\u{664}x\u{B2}") == ["\u{663}\u{664}", "x", "\u{B2}"])
    }

    @Test func metaspace() {
        let split = PreTokenizer.metaspace(replacement: "\u{2581}", prependScheme: .always, split: true)
        #expect(words(split, "a  b \u{2581}c") == ["▁a", "▁", "▁b", "▁", "▁c"])
        let first = PreTokenizer.metaspace(replacement: "\u{2581}", prependScheme: .first, split: false)
        #expect(words(first, "hello world") == ["▁hello▁world"])
        #expect(words(first, "world", atOrigin: false) == ["world"])
        #expect(words(first, " hello") == ["▁hello"])
        let never = PreTokenizer.metaspace(replacement: "\u{2581}", prependScheme: .never, split: false)
        #expect(words(never, "a b") == ["a▁b"])
    }

    @Test func byteLevelPrefixSpaceAndRegex() {
        #expect(words(.byteLevel(addPrefixSpace: true, useRegex: true), "Hi there") == [" Hi", " there"])
        #expect(words(.byteLevel(addPrefixSpace: true, useRegex: true), " Hi") == [" Hi"])
        #expect(words(.byteLevel(addPrefixSpace: false, useRegex: false), "Hi there") == ["Hi there"])
        #expect(PreTokenizer.sequence([.digits(individual: true), .byteLevel(addPrefixSpace: false, useRegex: true)]).isByteLevel)
        #expect(!PreTokenizer.gpt2Split.isByteLevel)
    }

    @Test func byteLevelAlphabet() {
        let map = ByteLevelAlphabet.scalarOfByte
        #expect(map[0x00] == 0x100 && map[0x0A] == 0x10A && map[0x20] == 0x120 && map[0x7F] == 0x121 && map[0xAD] == 0x143)
        #expect(map[0x21] == 0x21 && map[0x7E] == 0x7E && map[0xA1] == 0xA1 && map[0xAE] == 0xAE && map[0xFF] == 0xFF)
        #expect(Set(map).count == 256)
        let all = (0..<256).map { UInt8($0) }
        #expect(ByteLevelAlphabet.bytes(of: ByteLevelAlphabet.string(of: all)) == all)
        #expect(ByteLevelAlphabet.bytes(of: "Ġhello") == Array(" hello".utf8))
        #expect(ByteLevelAlphabet.bytes(of: "<|x|> ") == nil)  // a space is not in the alphabet
    }

    @Test func normalizers() {
        func apply(_ n: Normalizer, _ s: String) -> String {
            var b = Array(s.utf8)
            n.apply(&b)
            return String(decoding: b, as: UTF8.self)
        }
        let legacy = Normalizer.sequence([.prepend("\u{2581}"), .replace(pattern: " ", content: "\u{2581}")])
        #expect(apply(legacy, "hello world") == "▁hello▁world")
        #expect(apply(legacy, " a\tb\n") == "▁▁a\tb\n")
        #expect(apply(legacy, "") == "")
        #expect(apply(.replace(pattern: "aa", content: "b"), "aaaaa") == "bba")
        #expect(apply(.squeezeSpaces, "  a   b  ") == "a b")
        #expect(apply(.squeezeSpaces, "\ta  \n") == "\ta \n")
    }

    @Test func decoders() {
        let legacy = TokenDecoder.sequence([.replace(pattern: "\u{2581}", content: " "), .byteFallback, .fuse,
                                            .strip(content: " ", start: 1, stop: 0)])
        #expect(legacy.decode(["▁hello", "▁", "<0x0A>", "w", "<0xC3>", "<0xA9>"]) == "hello \nwé")
        // Bytes that are not valid UTF-8 become one U+FFFD each.
        #expect(TokenDecoder.byteFallback.decodeChain(["a", "<0xC3>", "<0x28>", "b"]) == ["a", "\u{FFFD}", "\u{FFFD}", "b"])
        #expect(TokenDecoder.byteFallback.decodeChain(["<0xe2>", "<0x82>", "<0xac>"]) == ["€"])
        #expect(TokenDecoder.byteLevel.decode(["Ġhello", "Ċ", "Ã©"]) == " hello\né")
        #expect(TokenDecoder.byteLevel.decode(["Ã"]) == "\u{FFFD}")
        let meta = TokenDecoder.metaspace(replacement: "\u{2581}", prependScheme: .always)
        #expect(meta.decode(["▁a▁b", "▁c"]) == "ab c")
        #expect(TokenDecoder.strip(content: "x", start: 2, stop: 1).decodeChain(["xxxaxx", "x"]) == ["xax", ""])
    }

    @Test func addedTokensMatchLeftmostLongest() {
        let m = AddedTokenMatcher([AddedToken(id: 1, content: "<s>", special: true, normalized: false),
                                   AddedToken(id: 2, content: "<s><s>", special: true, normalized: false),
                                   AddedToken(id: 3, content: "s>", special: false, normalized: false)])
        var out: [Segment] = []
        let text = Array("a<s><s><s>s>".utf8)
        m.split(text, 0..<text.count, includeSpecial: true, into: &out)
        #expect(out == [.text(0..<1), .token(2), .token(1), .token(3)])
        out = []
        m.split(text, 0..<text.count, includeSpecial: false, into: &out)
        #expect(out == [.text(0..<2), .token(3), .text(4..<5), .token(3), .text(7..<8), .token(3), .token(3)])
    }
}
