// libFuzzer target: a GGUF file (header, typed metadata, tensor infos, data). Opened as `t2r inspect`
// and `t2r distill` open a teacher (config from llama.* metadata, tensor set, q/k permutation), every
// tensor dequantised, and the tokenizer built from its tokenizer.ggml.* arrays and run on a probe text.
import CheckpointIO
import Conversion
import TensorCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = Scratch.write("model.gguf", input(data, size))
    // Inputs the reader refuses stop here; the checkpoint-level readers below would refuse them again.
    guard let f = opened({ try GGUFFile(path: path) }) else { return 0 }
    for t in f.tensors { expectTypedErrors { _ = try f.loadFloat32(t.name) } }
    _ = f.metadata
    expectTypedErrors {
        let tok = try GGUFTokenizer.load(f)
        let ids = tok.encode(probeText, addSpecialTokens: true, parseSpecial: true)
        _ = tok.decode(ids + [-1, 0, 1, 1 << 40], skipSpecialTokens: false)
    }
    expectTypedErrors {
        let store = try GGUFTeacherStore(f)
        for info in store.tensorInfos { expectTypedErrors { _ = try store.loadFloat32(info.name) } }
    }
    expectTypedErrors { _ = try CheckpointInspection.inspect(path) }
    expectTypedErrors { _ = try TeacherCheckpoint.open(path).loadModel() }
    return 0
}
