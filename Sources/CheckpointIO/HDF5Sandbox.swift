// libhdf5 crash containment. libhdf5 (a C library) is not hardened against corrupt or hostile files: fed
// mutated bytes, Debian's 1.10.8 frees invalid pointers and reads out of bounds within seconds of fuzzing
// (see README, "Hostile inputs"). t2r therefore never lets libhdf5 read a file in its own process: every
// reading call (the walk over the structure, attribute look-ups, dataset reads) runs in a forked child
// that opens the file itself and hands its answer back through shared memory, as bytes (HDF5Wire.swift)
// or as the dataset's data. A child that dies by a signal becomes an `HDF5Error.libraryCrashed` naming
// the file, the operation and the signal, one that runs past its deadline (libhdf5 can also loop forever
// on a corrupt file) `libraryHung`. Heap corruption need not crash at once, nor the same way twice, so
// a child that survived is no proof that the parent would: the parent never runs libhdf5 on the file.
//
// The child runs only libhdf5 and the reader's own code, then leaves with _exit; the parent holds
// HDF5Library.lock meanwhile, so no other thread is inside libhdf5 when it forks, and forks through
// `ProcessFork.fork`, which keeps OpenBLAS's fork handler from pulling its thread pool out from under a
// matrix product running on another thread.
import CHDF5
import Glibc
import TensorCore

enum HDF5Sandbox {
    /// Room for the child's error message at the start of the shared region.
    static let messageBytes = 1024

    /// Runs `body` in a forked child with `dataBytes` of zeroed shared memory after a message area; returns
    /// the data area's contents through `receive` when the child exits 0. The child's non-zero status
    /// becomes `HDF5Error.readFailed` with the message it left; death by a signal, `libraryCrashed`.
    /// Lock held by the caller.
    /// `deadlineBytes` (default `dataBytes`) sets the deadline (`timeout(forBytes:)`).
    static func run(file: String, object: String, operation: String, dataBytes: Int, deadlineBytes: Int? = nil,
                    body: (_ data: UnsafeMutableRawPointer, _ message: UnsafeMutablePointer<CChar>) -> Int32,
                    receive: (UnsafeRawPointer) throws -> Void = { _ in }) throws {
        let size = messageBytes + max(dataBytes, 0)
        // MAP_NORESERVE: only the pages the child writes take memory.
        guard let region = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
              region != MAP_FAILED else {
            throw IOFailure(path: file, operation: "map \(size) bytes of shared memory to read \(object)", reason: String(cString: strerror(errno)))
        }
        defer { munmap(region, size) }
        let message = region.assumingMemoryBound(to: CChar.self)
        let pid = ProcessFork.fork()
        if pid < 0 { throw IOFailure(path: file, operation: "fork to read \(object)", reason: String(cString: strerror(errno))) }
        if pid == 0 {
            // Child: none of the parent's signal handlers (a Ctrl-C handler must not run here, and a crash
            // report such as Swift's backtracer would print one for every contained crash): a fault ends
            // the child quietly, and the parent reports it.
            for s in [SIGINT, SIGTERM, SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGTRAP] { signal(s, SIG_DFL) }
            // And it dies with the parent (a killed t2r must not leave a child looping in libhdf5).
            _ = shim_die_with_parent()
            if getppid() == 1 { _exit(1) }
            _exit(body(region + messageBytes, message))
        }
        // A corrupt file can also make libhdf5 loop forever (a cycle in its global heap): the child gets a
        // deadline generous for any real file, then is killed.
        let seconds = timeout(forBytes: deadlineBytes ?? dataBytes)
        let deadline = monotonicNow() + seconds
        var status: Int32 = 0
        var pause = 0.0005
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0 && errno != EINTR {
                throw IOFailure(path: file, operation: "wait for the reader of \(object)", reason: String(cString: strerror(errno)))
            }
            if monotonicNow() > deadline {
                kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                throw HDF5Error.libraryHung(file: file, object: object, operation: operation, seconds: seconds)
            }
            var t = timespec(tv_sec: 0, tv_nsec: Int(pause * 1e9))
            nanosleep(&t, nil)
            pause = min(pause * 2, 0.05)
        }
        let signalNumber = status & 0x7F
        if signalNumber != 0 {
            throw HDF5Error.libraryCrashed(file: file, object: object, operation: operation, signal: signalName(signalNumber))
        }
        let code = (status >> 8) & 0xFF
        if code != 0 {
            message[messageBytes - 1] = 0
            throw HDF5Error.readFailed(file: file, object: object, operation: operation, detail: String(cString: message))
        }
        try receive(UnsafeRawPointer(region + messageBytes))
    }

    /// Most bytes a child's answer may take (shared memory reserved, touched only as written).
    static let answerBytes = 256 << 20

    /// Runs `body` in a forked child and returns its result, which travels back encoded by `encode` and
    /// decoded by `decode`; an `HDF5Error` the child throws is rethrown here. Lock held by the caller.
    static func call<R>(file: String, object: String, operation: String, body: () throws -> R,
                        encode: (R, inout WireWriter) -> Void, decode: (inout WireReader) throws -> R) throws -> R {
        var answer: Result<R, HDF5Error>?
        try run(file: file, object: object, operation: operation, dataBytes: answerBytes, deadlineBytes: 0, body: { data, message in
            var w = WireWriter()
            do {
                let r = try body()
                w.bool(true)
                encode(r, &w)
            } catch {
                w.bool(false)
                let e = error as? HDF5Error ?? .readFailed(file: file, object: object, operation: operation, detail: "\(error)")
                e.encode(&w)
            }
            guard w.bytes.count <= answerBytes - 8 else {
                leave("the answer takes \(w.bytes.count) bytes, more than the \(answerBytes) the reader may hand back", in: message)
                return 1
            }
            withUnsafeBytes(of: Int64(w.bytes.count).littleEndian) { data.copyMemory(from: $0.baseAddress!, byteCount: 8) }
            w.bytes.withUnsafeBytes { if let b = $0.baseAddress { (data + 8).copyMemory(from: b, byteCount: $0.count) } }
            return 0
        }, receive: { data in
            var length: Int64 = 0
            withUnsafeMutableBytes(of: &length) { $0.copyMemory(from: UnsafeRawBufferPointer(start: data, count: 8)) }
            let n = Int(Int64(littleEndian: length))
            var r = WireReader(UnsafeRawBufferPointer(start: data + 8, count: n >= 0 && n <= answerBytes - 8 ? n : 0))
            do {
                guard n >= 0, n <= answerBytes - 8 else { throw WireReader.Malformed() }
                answer = try r.bool() ? .success(decode(&r)) : .failure(HDF5Error.decode(&r))
                guard r.atEnd else { throw WireReader.Malformed() }
            } catch {
                throw HDF5Error.readFailed(file: file, object: object, operation: operation,
                                           detail: "the libhdf5 reader process handed back a malformed answer")
            }
        })
        return try answer!.get()
    }

    /// Seconds a child may take: 60, plus one for every 8 MB of data to read (slow disks, decompression);
    /// T2R_HDF5_TIMEOUT (seconds) replaces it.
    static func timeout(forBytes bytes: Int) -> Double {
        if let v = getenv("T2R_HDF5_TIMEOUT"), let s = Double(String(cString: v)), s > 0 { return s }
        return 60 + Double(bytes) / 8e6
    }

    static func monotonicNow() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    static func signalName(_ s: Int32) -> String {
        switch s {
        case SIGSEGV: "SIGSEGV, a bad memory access"
        case SIGABRT: "SIGABRT, an abort (e.g. a corrupted heap)"
        case SIGBUS: "SIGBUS, a bad memory access"
        case SIGFPE: "SIGFPE, an arithmetic fault"
        case SIGILL: "SIGILL"
        case SIGKILL: "SIGKILL (out of memory?)"
        default: "signal \(s)"
        }
    }

    /// Copies `text` into the child's message area (NUL-terminated).
    static func leave(_ text: String, in message: UnsafeMutablePointer<CChar>) {
        let bytes = Array(text.utf8.prefix(messageBytes - 1))
        for (i, b) in bytes.enumerated() { message[i] = CChar(bitPattern: b) }
        message[bytes.count] = 0
    }
}
