// Fixture access for the tokenizer tests: the expected ids written by
// tools/fixtures/make_tokenizer_fixtures.py (Tests/Fixtures/tokenization/cases.json), the shared Mistral /
// SmolLM2 data, and the SmolLM2 tokenizer files tools/fixtures/smollm2_tokenizer_from_gguf.py derives
// from the GGUF.
import TensorCore
import Testing
import TestSupport
import Tokenization

/// One expected encoding from cases.json.
struct TokenizerCase {
    let text: String
    /// encode(text): add_special_tokens=True, special-token text parsed (nil for the SentencePiece reference).
    let special: [Int]?
    /// add_special_tokens=False, special-token text taken literally.
    let plain: [Int]
    /// decode(special) (skip_special_tokens=True), or SentencePiece's decode for its reference.
    let decoded: String?
    /// decode(special, skip_special_tokens=False).
    let decodedAll: String?
    /// sentencepiece's ids (real Mistral only).
    let sentencepiece: [Int]?
}

enum TokenizationFixtures {
    static func path(_ relative: String) -> String { Fixtures.fixture("tokenization/\(relative)") }

    static let cases: JSONValue = {
        (try? JSONParser.parse(try readFile(path("cases.json")))) ?? .null
    }()

    /// The cases of one tokenizer entry of cases.json.
    static func cases(_ name: String) -> [TokenizerCase] {
        guard let list = cases["tokenizers"]?[name]?["cases"]?.arrayValue else { return [] }
        func ids(_ v: JSONValue?) -> [Int]? { v?.arrayValue?.compactMap(\.intValue) }
        return list.map {
            TokenizerCase(text: $0["text"]?.stringValue ?? "", special: ids($0["special"]), plain: ids($0["plain"]) ?? [],
                          decoded: $0["decoded"]?.stringValue, decodedAll: $0["decoded_all"]?.stringValue,
                          sentencepiece: ids($0["sentencepiece"]))
        }
    }

    // MARK: Shared data

    static let mistralDir = Fixtures.shared("data/tokenizers/mistral-v1")
    static let validFiles = ["austen_persuasion.txt", "wikipedia_valid.txt"]
    static func validText(_ name: String) throws -> String {
        try readTextFile(Fixtures.shared("data/corpus/valid/\(name)"))
    }

    // MARK: SmolLM2 files derived from the GGUF

    static let smolDir = Fixtures.repo("checkpoints/smollm2-135m")

    /// The SmolLM2 tokenizer sources present: the GGUF itself (tools/fetch-smollm2.sh), and the
    /// tokenizer.json / raw arrays tools/fixtures/smollm2_tokenizer_from_gguf.py derives from it.
    static var smolSources: [String] {
        var s: [String] = []
        if Fixtures.smollm2Available { s.append("gguf") }
        for f in ["tokenizer.json", "tokenizer_ggml.json"] where FileSystem.exists("\(smolDir)/\(f)") { s.append(f) }
        return s
    }

    /// Builds a ByteLevelBPEArrays from a JSON dump of GGUF tokenizer arrays.
    static func arrays(_ file: String) throws -> ByteLevelBPEArrays {
        let v = try JSONParser.parse(try readFile(file))
        return ByteLevelBPEArrays(
            tokens: v["tokens"]?.arrayValue?.compactMap(\.stringValue) ?? [],
            merges: v["merges"]?.arrayValue?.compactMap(\.stringValue) ?? [],
            tokenTypes: v["token_type"]?.arrayValue?.compactMap(\.intValue) ?? [],
            bosTokenId: v["bos_token_id"]?.intValue, eosTokenId: v["eos_token_id"]?.intValue,
            addBOS: v["add_bos_token"]?.boolValue ?? false, preTokenizerName: v["pre"]?.stringValue ?? "",
            source: file)
    }
}

/// Index and values of the first difference of two id lists, for failure messages.
func firstDifference(_ a: [Int], _ b: [Int]) -> String {
    let n = min(a.count, b.count)
    guard let i = (0..<n).first(where: { a[$0] != b[$0] }) else {
        return a.count == b.count ? "identical" : "lengths \(a.count) vs \(b.count), equal prefix"
    }
    let lo = max(0, i - 3)
    return "first difference at \(i) (of \(a.count) vs \(b.count)): got \(Array(a[lo..<min(a.count, i + 6)])) expected \(Array(b[lo..<min(b.count, i + 6)]))"
}

/// Expects identical id lists; on failure reports only the first difference (not both whole lists).
func expectIds(_ got: [Int], _ expected: [Int], _ context: @autoclosure () -> String,
               sourceLocation: SourceLocation = #_sourceLocation) {
    let same = got == expected
    #expect(same, "\(context()): \(firstDifference(got, expected))", sourceLocation: sourceLocation)
}
