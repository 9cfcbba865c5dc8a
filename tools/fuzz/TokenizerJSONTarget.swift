// libFuzzer target: a Hugging Face tokenizer.json, parsed into a BPE tokenizer that then encodes and
// decodes a probe text (a hostile but parsable vocabulary must not crash the encoder either).
import TensorCore
import Tokenization

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    expectTypedErrors {
        let t = try TokenizerJSON.parse(Array(input(data, size)), file: "tokenizer.json")
        for special in [false, true] {
            let ids = t.encode(probeText, addSpecialTokens: special, parseSpecial: special)
            _ = t.decode(ids + [-1, t.vocabularySize, 1 << 40], skipSpecialTokens: special)
        }
    }
    return 0
}
