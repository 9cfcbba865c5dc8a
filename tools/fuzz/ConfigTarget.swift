// libFuzzer target: configuration JSON — a transformers config.json (Mistral/Llama), an fla GSA
// config.json, a KerasHub backbone config, and tokenizer_config.json / preprocessor.json — through the
// strict JSON parser and every typed reader, plus what t2r derives from a valid config.
import Conversion
import Models
import TensorCore
import Tokenization

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(input(data, size))
    expectTypedErrors {
        let json = try JSONParser.parse(bytes)
        _ = json.serialized(indent: 2)
        expectTypedErrors {
            let c = try TransformerConfig(huggingFaceJSON: json, file: "config.json")
            _ = c.huggingFaceJSON().serialized()
            _ = CheckpointInspection.describe(c)
        }
        expectTypedErrors {
            let g = try GSAConfig(json: json, file: "config.json")
            _ = g.json.serialized()
        }
    }
    expectTypedErrors { _ = try TransformerConfig.load(teacherConfigJSON: bytes, file: "config.json") }
    let path = Scratch.write("tokenizer_config.json", input(data, size))
    expectTypedErrors { _ = try TokenizerConfig.loadHuggingFace(path) }
    expectTypedErrors { _ = try TokenizerConfig.loadKerasHub(path) }
    expectTypedErrors { _ = try TokenizerConfig.isKerasLayerConfig(path) }
    return 0
}
