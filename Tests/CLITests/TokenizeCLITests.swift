// `t2r tokenize`: ids written as .u16/.u32 match Hugging Face tokenizers; errors exit 64 (usage) or
// 65 (bad input) with a message naming the file.
import Foundation
import TensorCore
import TestSupport
import Testing

@Suite struct TokenizeCLITests {
    /// Little-endian ids of a .u16/.u32 file.
    func ids(_ path: String) throws -> [Int] {
        let b = try readFile(path)
        let w = path.hasSuffix(".u16") ? 2 : 4
        return (0..<(b.count / w)).map { i in (0..<w).reduce(0) { $0 | Int(b[i * w + $1]) << (8 * $1) } }
    }

    @Test(.enabled(if: Fixtures.sharedAvailable, Comment(rawValue: Fixtures.sharedMissingReason)))
    func mistralValidFileMatchesHuggingFace() throws {
        let dir = Fixtures.temporaryDirectory()
        let text = Fixtures.shared("data/corpus/valid/austen_persuasion.txt")
        let manifest = try JSONParser.parse(try readFile(Fixtures.fixture("tokenization/mistral_valid.json")))
        let want = try #require(manifest["whole_files"]?["austen_persuasion.txt"])
        let r = try T2RBinary.run(["tokenize", "--model", Fixtures.shared("checkpoints/tiny-mistral"), "--text", text, "--out", "\(dir)/p.u16"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\(dir)/p.u16: 121,354 ids (uint16) from 466,828 bytes"), "\(r.stdout)")
        #expect(r.stdout.contains("BOS added"))
        let got = try ids("\(dir)/p.u16")
        #expect(got.count == (want["count"]?.intValue ?? 0) + 1)
        #expect(got.first == 1)
        #expect(Array(got.dropFirst().prefix(32)) == want["head"]?.arrayValue?.compactMap(\.intValue))

        let n = try T2RBinary.run(["tokenize", "--model", Fixtures.shared("data/tokenizers/mistral-v1/tokenizer.model"), "--text", text,
                                   "--out", "\(dir)/p.u32", "--no-special"])
        #expect(n.status == 0, "\(n.stderr)")
        #expect(n.stdout.contains("no special tokens added"))
        #expect(try ids("\(dir)/p.u32") == Array(got.dropFirst()))
    }

    @Test func ggufVocabularyAndSpecialTokenParsing() throws {
        let dir = Fixtures.temporaryDirectory()
        try writeFileAtomically("\(dir)/in.txt", text: "<|im_start|>user\nHi 123!")
        let gguf = Fixtures.fixture("tokenization/toy-bytelevel/vocab.gguf")
        let plain = try T2RBinary.run(["tokenize", "--model", gguf, "--text", "\(dir)/in.txt", "--out", "\(dir)/a.u32"])
        #expect(plain.status == 0, "\(plain.stderr)")
        let special = try T2RBinary.run(["tokenize", "--model", gguf, "--text", "\(dir)/in.txt", "--out", "\(dir)/b.u32", "--parse-special"])
        #expect(special.status == 0, "\(special.stderr)")
        let a = try ids("\(dir)/a.u32"), b = try ids("\(dir)/b.u32")
        #expect(b.first == 1 && !a.contains(1))
        #expect(a.suffix(5) == b.suffix(5))   // " ", "1", "2", "3", "!" (digits split one by one)
        #expect(a.count > b.count)
    }

    @Test func errors() throws {
        let dir = Fixtures.temporaryDirectory()
        let gguf = Fixtures.fixture("tokenization/toy-bytelevel/vocab.gguf")
        try writeFileAtomically("\(dir)/in.txt", text: "hello")
        try writeFileAtomically("\(dir)/bad.txt", bytes: [0x68, 0x69, 0xC0, 0x80])

        let ext = try T2RBinary.run(["tokenize", "--model", gguf, "--text", "\(dir)/in.txt", "--out", "\(dir)/x.bin"])
        #expect(ext.status == 64)
        #expect(ext.stderr.hasPrefix("Error: --out must end in .u32 or .u16, got \"\(dir)/x.bin\""))
        let missing = try T2RBinary.run(["tokenize", "--text", "\(dir)/in.txt", "--out", "\(dir)/x.u32"])
        #expect(missing.status == 64)
        #expect(missing.stderr.hasPrefix("Error: missing required option --model"))
        let noModel = try T2RBinary.run(["tokenize", "--model", "\(dir)/nothing", "--text", "\(dir)/in.txt", "--out", "\(dir)/x.u32"])
        #expect(noModel.status == 65)
        #expect(noModel.stderr.hasPrefix("Error: \(dir)/nothing: no such file or directory"), "\(noModel.stderr)")
        let badText = try T2RBinary.run(["tokenize", "--model", gguf, "--text", "\(dir)/bad.txt", "--out", "\(dir)/x.u32"])
        #expect(badText.status == 65)
        #expect(badText.stderr.hasPrefix("Error: \(dir)/bad.txt: invalid UTF-8 at byte 2 (0xC0)"), "\(badText.stderr)")
        let noText = try T2RBinary.run(["tokenize", "--model", gguf, "--text", "\(dir)/none.txt", "--out", "\(dir)/x.u32"])
        #expect(noText.status == 65)
        #expect(noText.stderr.hasPrefix("Error: \(dir)/none.txt: cannot read the text"), "\(noText.stderr)")
        try writeFileAtomically("\(dir)/tokenizer.json", text: #"{"model": {"type": "Unigram", "vocab": []}}"#)
        let unsupported = try T2RBinary.run(["tokenize", "--model", dir, "--text", "\(dir)/in.txt", "--out", "\(dir)/x.u32"])
        #expect(unsupported.status == 65)
        #expect(unsupported.stderr.hasPrefix("Error: \(dir)/tokenizer.json: model.type: unsupported: \"Unigram\" models"), "\(unsupported.stderr)")
        #expect(!FileSystem.exists("\(dir)/x.u32"))

        let help = try T2RBinary.run(["--help"])
        #expect(help.stdout.contains("tokenize      Tokenize a text file"))
        let h = try T2RBinary.run(["tokenize", "--help"])
        #expect(h.status == 0 && h.stdout.contains("--parse-special"))
    }
}
