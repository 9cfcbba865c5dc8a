// libFuzzer target: `model.safetensors.index.json` of a sharded checkpoint. The fuzzed index sits in a
// scratch directory beside two valid shards (Tests/Fixtures/safetensors/sharded/good) and a config.json,
// and is opened as `t2r inspect DIR` opens it; every tensor it maps is then loaded. Shard names that
// leave the directory ("../x", "/etc/passwd") must be refused.
import CheckpointIO
import Conversion
import TensorCore

private let prepared: Bool = {
    let good = repoRoot + "/Tests/Fixtures/safetensors/sharded/good/"
    for n in ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"] { Scratch.copy(good + n, as: n) }
    return true
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    precondition(prepared)
    let path = Scratch.write("model.safetensors.index.json", input(data, size))
    guard let s = opened({ try ShardedSafetensors(indexPath: path) }) else { return 0 }
    for (name, _) in s.weightMap { expectTypedErrors { _ = try s.loadFloat32(name) } }
    _ = s.tensorInfos
    _ = s.warnings
    expectTypedErrors { _ = try CheckpointInspection.inspect(Scratch.root) }
    return 0
}
