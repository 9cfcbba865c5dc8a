// The libFuzzer entry point of t2r's fuzz binary (built by tools/fuzz.sh together with
// Tests/FuzzRegressionTests/FuzzDrivers.swift and HDF5Description.swift, which the regression tests
// share). T2R_FUZZ_TARGET names the target (safetensors, sharded-index, gguf, hdf5, config,
// tokenizer-json, sentencepiece, recipe). Any crash, untyped error, hang or over-allocation is a finding.
import Glibc
import TensorCore

/// The target and scratch directory of this process.
private struct Session {
    let target: FuzzTarget
    let scratch: String

    static let current: Session = {
        guard let name = getenv("T2R_FUZZ_TARGET").map({ String(cString: $0) }), let t = FuzzTarget(rawValue: name) else {
            fatalError("set T2R_FUZZ_TARGET to one of \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        // A private directory on tmpfs: file-based readers get their input as a file, rewritten each time.
        let base = FileSystem.isDirectory("/dev/shm") ? "/dev/shm" : "/tmp"
        let dir = "\(base)/t2r-fuzz-\(name)-\(getpid())"
        try? FileSystem.createDirectory(dir)
        atexit { removeScratch() }
        return Session(target: t, scratch: dir)
    }()
}

private func removeScratch() {
    let path = Session.current.scratch
    for n in (try? FileSystem.listDirectory(path)) ?? [] { unlink(path + "/" + n) }
    rmdir(path)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let s = Session.current
    for e in s.target.run(UnsafeRawBufferPointer(start: data, count: size), scratch: s.scratch) {
        // Building the message must not crash either.
        let text = "\(e)"
        if !isTypedReaderError(e) { fatalError("untyped error escaped a reader: \(type(of: e)): \(text)") }
    }
    return 0
}

/// T2R_FUZZ_WRITE_SEEDS=DIR (with T2R_FUZZ_TARGET=hdf5): records the `hdf5` target's seeds (FuzzDrivers.hdf5Seeds:
/// transcripts of real reader processes on the HDF5 fixtures) into DIR and exits.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    guard let out = getenv("T2R_FUZZ_WRITE_SEEDS").map({ String(cString: $0) }) else { return 0 }
    guard Session.current.target == .hdf5 else { fatalError("T2R_FUZZ_WRITE_SEEDS is for T2R_FUZZ_TARGET=hdf5") }
    let seeds = FuzzDrivers.hdf5Seeds(scratch: Session.current.scratch)
    for s in seeds {
        let name = "seed-" + s.name.map { $0 == "/" ? "_" : $0 }
        do { try writeFileAtomically(FileSystem.join(out, String(name)), bytes: s.input) } catch { fatalError("\(error)") }
    }
    print("wrote \(seeds.count) hdf5 transcript seeds to \(out)")
    exit(0)
}
