// libFuzzer target: a single safetensors file (the 8-byte header length, the JSON header, the data
// buffer), opened as `t2r inspect` opens it and with every tensor loaded as `convert` would.
import CheckpointIO
import TensorCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = Scratch.write("model.safetensors", input(data, size))
    expectTypedErrors {
        let f = try SafetensorsFile(path: path)
        for e in f.entries {
            expectTypedErrors {
                switch e.dtype {
                case .F32, .F16, .BF16, .F64: _ = try f.loadFloat32(e.name)
                default: _ = try f.loadIntegers(e.name)
                }
            }
        }
        _ = f.tensorInfos
    }
    return 0
}
