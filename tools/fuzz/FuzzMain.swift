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
