// libFuzzer target: a SentencePiece tokenizer.model (protobuf ModelProto), parsed, turned into a BPE
// tokenizer both ways HF does it (legacy and Metaspace-first), and run on a probe text.
import TensorCore
import Tokenization

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    expectTypedErrors {
        let m = try SentencePieceModel.parse(Array(input(data, size)), file: "tokenizer.model")
        for legacy in [true, false] {
            expectTypedErrors {
                let t = try m.tokenizer(addBOS: true, addEOS: legacy, legacy: legacy, file: "tokenizer.model")
                let ids = t.encode(probeText, addSpecialTokens: true, parseSpecial: legacy)
                _ = t.decode(ids + [-1, m.pieces.count, 1 << 40], skipSpecialTokens: legacy)
            }
        }
    }
    return 0
}
