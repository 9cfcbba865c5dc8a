// libhdf5 crash containment. libhdf5 (a C library) is not hardened against corrupt or hostile files: fed
// mutated bytes, Debian's 1.10.8 frees invalid pointers and reads out of bounds within seconds of fuzzing
// (see README, "Hostile inputs"). t2r therefore never lets libhdf5 read a file in its own process: an
// `HDF5Reader` starts a reader process (`t2r hdf5-reader FILE`, spawned, not forked: a forked copy of a
// multithreaded Swift process can inherit a runtime lock some other thread held and hang in it) that
// opens the file and answers requests (the structure, attribute names and strings, dataset data) over a
// socket, handing the answers back through a shared memory file: encoded (HDF5Wire.swift) or as the raw
// data. Heap corruption need not crash at once, nor the same way twice, so a reader that survived a file
// is no proof that t2r's own process would: t2r never runs libhdf5 on it.
//
// A reader that dies by a signal becomes an `HDF5Error.libraryCrashed` naming the file, the operation and
// the signal; one that runs past its deadline (libhdf5 can also loop forever on a corrupt file),
// `libraryHung`. The next request then starts a fresh reader. A reader leaves when its socket closes (t2r
// is done with the file, or gone), after ten seconds without a request, or at a request's deadline
// (SIGALRM) should t2r be gone meanwhile. Inside `HDF5Transcript.record`/`replay` the answers are also
// recorded, or taken from a transcript instead of a reader (HDF5Transcript.swift).
import CHDF5
import Glibc
import TensorCore

/// What the reader process is asked to do.
enum HDF5Request {
    /// Describe every dataset and root string attribute (`HDF5File.walk`).
    case structure
    /// The attribute names of an object.
    case attributeNames(object: String)
    /// The strings of a string attribute of an object (nil when absent).
    case strings(object: String, attribute: String)
    /// A dataset's data: `bytes` bytes, float32 (converted by libhdf5) or raw bfloat16 words.
    case read(dataset: String, bfloat16: Bool, bytes: Int)

    func encode(_ w: inout WireWriter) {
        switch self {
        case .structure: w.int(0)
        case let .attributeNames(o): w.int(1); w.string(o)
        case let .strings(o, a): w.int(2); w.string(o); w.string(a)
        case let .read(d, bf16, n): w.int(3); w.string(d); w.bool(bf16); w.int(n)
        }
    }

    static func decode(_ r: inout WireReader) throws -> HDF5Request {
        switch try r.int() {
        case 0: return .structure
        case 1: return .attributeNames(object: try r.string())
        case 2: return .strings(object: try r.string(), attribute: try r.string())
        case 3: return .read(dataset: try r.string(), bfloat16: try r.bool(), bytes: try r.int())
        default: throw WireReader.Malformed()
        }
    }
}

/// Where the reader process puts its answer: the shared memory file, resized to fit.
struct HDF5AnswerArea {
    /// The HDF5 file (for errors).
    let path: String
    let fd: Int32

    /// Maps `bytes` bytes of the shared file (grown to fit), runs `body` on them, unmaps.
    func withMemory<R>(bytes: Int, _ body: (UnsafeMutableRawPointer) throws -> R) throws -> R {
        guard ftruncate(fd, off_t(bytes)) == 0 else { throw failure("size the shared memory for an answer of \(bytes) bytes") }
        guard let p = mmap(nil, max(bytes, 1), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), p != MAP_FAILED else {
            throw failure("map \(bytes) bytes of shared memory")
        }
        defer { munmap(p, max(bytes, 1)) }
        return try body(p)
    }

    /// Stores `bytes` as the answer.
    func store(_ bytes: [UInt8]) throws {
        try withMemory(bytes: bytes.count) { p in bytes.withUnsafeBytes { if let b = $0.baseAddress { p.copyMemory(from: b, byteCount: $0.count) } } }
    }

    func failure(_ what: String) -> IOFailure {
        IOFailure(path: path, operation: what, reason: String(cString: strerror(errno)))
    }
}

/// A reader process that reads one HDF5 file with libhdf5 for this process. Every method runs with
/// HDF5Library.lock held.
final class HDF5Reader: @unchecked Sendable {
    /// Answers a request in the reader process: writes an encoded answer (or the raw data of `.read`) into the
    /// area and returns its length; a thrown `HDF5Error` goes back to the parent typed.
    typealias Handler = (_ request: HDF5Request, _ file: hid_t, _ area: HDF5AnswerArea) throws -> Int

    let path: String
    private let handler: Handler
    private var child: (pid: pid_t, socket: Int32, area: Int32)?
    /// Answers come from this transcript instead of a reader process (HDF5Transcript.swift).
    private let replay: HDF5Transcript?
    /// Every answer is also appended to this transcript.
    private let recorder: HDF5Transcript?
    /// The shared memory file replayed answers are put in (created on first use).
    private var replayArea: Int32 = -1

    init(path: String, handler: @escaping Handler) {
        self.path = path
        self.handler = handler
        replay = HDF5Transcript.replaying
        recorder = replay == nil ? HDF5Transcript.recording : nil
    }

    deinit {
        stop()
        if replayArea >= 0 { close(replayArea) }
    }

    /// How an answer came back.
    private enum Status: Int { case encoded = 0, error = 1 }

    /// What became of a request.
    private enum Outcome {
        /// An answer of `length` bytes in the shared memory file `area`.
        case answered(status: Int, length: Int, area: Int32)
        case crashed(signal: Int32)
        case hung(seconds: Double)
        case exited(status: Int32)
    }

    /// Sends `request` and returns the length of the answer in the shared area, whose descriptor `use`
    /// receives; an `HDF5Error` the reader met is rethrown.
    func ask<R>(_ request: HDF5Request, object: String, operation: String, deadlineBytes: Int = 0,
                _ use: (_ area: HDF5AnswerArea, _ length: Int) throws -> R) throws -> R {
        var w = WireWriter()
        request.encode(&w)
        let outcome = try replay.map { try replayed($0.next(), object: object, operation: operation) }
            ?? exchange(w.bytes, seconds: HDF5Reader.timeout(forBytes: deadlineBytes), object: object, operation: operation)
        switch outcome {
        case let .crashed(signal):
            recorder?.append(.crashed(signal: signal))
            throw HDF5Error.libraryCrashed(file: path, object: object, operation: operation, signal: HDF5Reader.signalName(signal))
        case let .hung(seconds):
            recorder?.append(.hung(seconds: seconds))
            throw HDF5Error.libraryHung(file: path, object: object, operation: operation, seconds: seconds)
        case let .exited(status):
            recorder?.append(.exited(status: status))
            throw HDF5Error.readFailed(file: path, object: object, operation: operation,
                                       detail: status == 0 ? "the libhdf5 reader process left without answering"
                                           : "the libhdf5 reader process exited (status \(status)) without answering")
        case let .answered(status, length, fd):
            let area = HDF5AnswerArea(path: path, fd: fd)
            defer { _ = ftruncate(fd, 0) }  // frees the answer's pages
            if let recorder, length >= 0, length <= HDF5Reader.maxAnswerBytes {
                let bytes = try area.withMemory(bytes: length) { Array(UnsafeRawBufferPointer(start: $0, count: length)) }
                recorder.append(status == Status.error.rawValue ? .error(bytes) : .encoded(bytes))
            }
            if status == Status.error.rawValue {
                throw try decodeAnswer(area, length, object: object, operation: operation) { r in try HDF5Error.decode(&r) }
            }
            return try use(area, length)
        }
    }

    /// The outcome of a replayed answer (nil: the transcript is used up, like a reader that left).
    private func replayed(_ answer: HDF5Transcript.Answer?, object: String, operation: String) throws -> Outcome {
        func answered(_ status: Status, _ bytes: [UInt8]) throws -> Outcome {
            if replayArea < 0 {
                replayArea = shim_memfd("t2r-hdf5-replay")
                if replayArea < 0 {
                    throw IOFailure(path: path, operation: "make a shared memory file to \(operation) \(object)", reason: String(cString: strerror(errno)))
                }
            }
            try HDF5AnswerArea(path: path, fd: replayArea).store(bytes)
            return .answered(status: status.rawValue, length: bytes.count, area: replayArea)
        }
        switch answer {
        case let .encoded(bytes): return try answered(.encoded, bytes)
        case let .error(bytes): return try answered(.error, bytes)
        case let .crashed(signal): return .crashed(signal: signal)
        case let .hung(seconds): return .hung(seconds: seconds)
        case let .exited(status): return .exited(status: status)
        case nil: return .exited(status: 0)
        }
    }

    /// Sends the encoded request to the reader process (started if need be) and waits for what becomes of it.
    private func exchange(_ request: [UInt8], seconds: Double, object: String, operation: String) throws -> Outcome {
        // A reader that left for idleness just as this request went out exits 0 without an answer: once,
        // a fresh reader gets the request again.
        for attempt in 0..<2 {
            let c = try start(object: object, operation: operation)
            let sent = HDF5Reader.sendAll(c.socket, withUnsafeBytes(of: Int64(request.count).littleEndian, Array.init) + request)
            if let outcome = waitForReply(c, sent: sent, seconds: seconds, retry: attempt == 0) { return outcome }
        }
        return .exited(status: 0)
    }

    /// `ask` for an answer encoded in the wire format.
    func call<R>(_ request: HDF5Request, object: String, operation: String,
                 decode: (inout WireReader) throws -> R) throws -> R {
        try ask(request, object: object, operation: operation) { area, length in
            try decodeAnswer(area, length, object: object, operation: operation, decode)
        }
    }

    private func decodeAnswer<R>(_ area: HDF5AnswerArea, _ length: Int, object: String, operation: String,
                                 _ decode: (inout WireReader) throws -> R) throws -> R {
        let malformed = HDF5Error.readFailed(file: path, object: object, operation: operation,
                                             detail: "the libhdf5 reader process handed back a malformed answer")
        guard length >= 0, length <= HDF5Reader.maxAnswerBytes else { throw malformed }
        do {
            return try area.withMemory(bytes: length) { p in
                var r = WireReader(UnsafeRawBufferPointer(start: p, count: length))
                let v = try decode(&r)
                guard r.atEnd else { throw WireReader.Malformed() }
                return v
            }
        } catch is WireReader.Malformed { throw malformed }
    }

    /// Most bytes an encoded answer may take.
    static let maxAnswerBytes = 1 << 30

    /// The longest deadline (a million seconds, eleven days: alarm(2) takes whole seconds in 32 bits).
    static let maxTimeout = 1e6

    /// Seconds a request may take: 60, plus one for every 8 MB of data to read (slow disks,
    /// decompression); T2R_HDF5_TIMEOUT (seconds) replaces it.
    static func timeout(forBytes bytes: Int) -> Double {
        if let v = getenv("T2R_HDF5_TIMEOUT"), let s = Double(String(cString: v)), s > 0 { return min(s, maxTimeout) }
        return min(60 + Double(bytes) / 8e6, maxTimeout)
    }

    // MARK: Parent side

    /// The running reader, started if there is none (or the last one has left).
    private func start(object: String, operation: String) throws -> (pid: pid_t, socket: Int32, area: Int32) {
        if let c = child {
            var status: Int32 = 0
            if waitpid(c.pid, &status, WNOHANG) == 0 { return c }
            closeChild()
        }
        func failure(_ what: String) -> IOFailure {
            IOFailure(path: path, operation: "\(what) to \(operation) \(object)", reason: String(cString: strerror(errno)))
        }
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw failure("make a socket")
        }
        let area = shim_memfd("t2r-hdf5-answer")
        if area < 0 {
            close(fds[0]); close(fds[1])
            throw failure("make a shared memory file")
        }
        let executable = try HDF5Reader.executable()
        let pid: pid_t
        do {
            pid = try HDF5Reader.spawn(executable, file: path, socket: fds[1], area: area)
        } catch {
            close(fds[0]); close(fds[1]); close(area)
            throw IOFailure(path: path, operation: "start the HDF5 reader \(executable) to \(operation) \(object)", reason: "\(error)")
        }
        close(fds[1])
        child = (pid, fds[0], area)
        return (pid, fds[0], area)
    }

    /// Waits for the reply to a request; nil when the reader left without one and `retry` allows another try.
    private func waitForReply(_ c: (pid: pid_t, socket: Int32, area: Int32), sent: Bool, seconds: Double, retry: Bool) -> Outcome? {
        let deadline = monotonicNow() + seconds
        var reply = [UInt8](repeating: 0, count: 16)
        var got = 0
        var pause: Int32 = 1
        while true {
            if sent {
                var p = pollfd(fd: c.socket, events: Int16(POLLIN), revents: 0)
                if poll(&p, 1, pause) > 0 {
                    let n = reply.withUnsafeMutableBytes { recv(c.socket, $0.baseAddress! + got, 16 - got, 0) }
                    if n > 0 {
                        got += n
                        if got == 16 {
                            return reply.withUnsafeBytes { b in
                                .answered(status: Int(Int64(littleEndian: b.loadUnaligned(as: Int64.self))),
                                          length: Int(Int64(littleEndian: b.loadUnaligned(fromByteOffset: 8, as: Int64.self))),
                                          area: c.area)
                            }
                        }
                        continue
                    }
                }
            } else {
                var t = timespec(tv_sec: 0, tv_nsec: Int(pause) * 1_000_000)
                nanosleep(&t, nil)
            }
            pause = min(pause * 2, 50)
            var status: Int32 = 0
            let r = waitpid(c.pid, &status, WNOHANG)
            if r == c.pid {
                closeChild()
                let signalNumber = status & 0x7F
                if signalNumber != 0 { return .crashed(signal: signalNumber) }
                let code = (status >> 8) & 0xFF
                if code == 0 && retry && got == 0 { return nil }
                return .exited(status: code)
            }
            if monotonicNow() > deadline {
                stop()
                return .hung(seconds: seconds)
            }
        }
    }

    /// Kills the reader (if any) and reaps it.
    func stop() {
        guard let c = child else { return }
        kill(c.pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(c.pid, &status, 0) < 0 && errno == EINTR {}
        closeChild()
    }

    private func closeChild() {
        guard let c = child else { return }
        close(c.socket)
        close(c.area)
        child = nil
    }

    static func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + done, bytes.count - done, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            done += n
        }
        return true
    }

    static func signalName(_ s: Int32) -> String {
        switch s {
        case SIGSEGV: "SIGSEGV, a bad memory access"
        case SIGABRT: "SIGABRT, an abort (e.g. a corrupted heap)"
        case SIGBUS: "SIGBUS, a bad memory access"
        case SIGFPE: "SIGFPE, an arithmetic fault"
        case SIGILL: "SIGILL"
        case SIGKILL: "SIGKILL (out of memory?)"
        case SIGALRM: "SIGALRM, its own deadline"
        default: "signal \(s)"
        }
    }

    // MARK: Starting the reader

    /// The program that reads HDF5 files for t2r: T2R_HDF5_READER, else this process's executable when it
    /// is `t2r`, else the `t2r` beside it (the test and fuzz binaries live beside it in .build/…).
    static func executable() throws -> String {
        if let v = getenv("T2R_HDF5_READER").map({ String(cString: $0) }), !v.isEmpty { return v }
        let me = (try? FileSystem.readLink("/proc/self/exe")) ?? ""
        if FileSystem.baseName(me) == "t2r" { return me }
        let beside = FileSystem.join(FileSystem.directoryName(me), "t2r")
        if access(beside, X_OK) == 0 { return beside }
        throw IOFailure(path: beside, operation: "find the t2r executable that reads HDF5 files (t2r hdf5-reader)",
                        reason: "there is none beside \(me); set T2R_HDF5_READER to its path")
    }

    /// Spawns `executable hdf5-reader FILE` with `socket` as descriptor 3 and `area` as 4, stdout to
    /// /dev/null, in its own process group (a Ctrl-C meant for t2r is t2r's to handle).
    static func spawn(_ executable: String, file: String, socket: Int32, area: Int32) throws -> pid_t {
        // Descriptors 3 and 4 of the reader; the sources moved above them first (dup2 onto itself would
        // keep close-on-exec).
        let s = shim_dup_above(socket, 10), a = shim_dup_above(area, 10)
        defer { if s >= 0 { close(s) }; if a >= 0 { close(a) } }
        guard s >= 0, a >= 0 else { throw IOFailure(path: file, operation: "duplicate descriptors", reason: String(cString: strerror(errno))) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, s, 3)
        posix_spawn_file_actions_adddup2(&actions, a, 4)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        // Swift's crash backtracer would print a report for every contained libhdf5 crash.
        var environment = [String]()
        var e = environ
        while let entry = e.pointee {
            let text = String(cString: entry)
            if !text.hasPrefix("SWIFT_BACKTRACE=") { environment.append(text) }
            e += 1
        }
        environment.append("SWIFT_BACKTRACE=enable=no")
        let arguments: [String] = [executable, "hdf5-reader", file]
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer { for p in argv + envp { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw IOFailure(path: executable, operation: "run", reason: String(cString: strerror(rc))) }
        return pid
    }

    // MARK: The reader process

    /// The reader process's loop (`t2r hdf5-reader FILE`): answers requests on descriptor 3 with answers in
    /// the shared memory file on descriptor 4, until the socket closes, ten seconds pass without a request
    /// or t2r is gone. Returns the exit status.
    static func serve(path: String, handler: Handler) -> Int32 {
        // The reader's own deadline per request (default action: terminate), should t2r be gone.
        signal(SIGALRM, SIG_DFL)
        signal(SIGPIPE, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        let (socket, areaFD) = (Int32(3), Int32(4))
        let parent = getppid()
        var file: Result<hid_t, HDF5Error>?
        return HDF5Library.locked {
            while true {
                var p = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
                let ready = poll(&p, 1, 10_000)
                if ready == 0 || getppid() != parent { return 0 }
                if ready < 0 { if errno == EINTR { continue }; return 0 }
                guard let header = HDF5Reader.receive(socket, 8) else { return 0 }
                let length = header.withUnsafeBytes { Int(Int64(littleEndian: $0.loadUnaligned(as: Int64.self))) }
                guard length >= 0, length < 1 << 20, let body = HDF5Reader.receive(socket, length) else { return 4 }
                var status = Status.encoded, answerLength = 0
                var w = WireWriter()
                do {
                    let request = try body.withUnsafeBytes { b in
                        var r = WireReader(b)
                        return try HDF5Request.decode(&r)
                    }
                    var bytes = 0
                    if case let .read(_, _, n) = request { bytes = n }
                    alarm(UInt32(min(HDF5Reader.timeout(forBytes: bytes) + 5, 1e6)))
                    if file == nil { file = Result { try HDF5Reader.open(path) }.mapError { $0 as? HDF5Error ?? .cannotOpen(file: path, detail: "\($0)") } }
                    answerLength = try handler(request, try file!.get(), HDF5AnswerArea(path: path, fd: areaFD))
                } catch {
                    status = .error
                    let e = error as? HDF5Error ?? .readFailed(file: path, object: "", operation: "answer a request for", detail: "\(error)")
                    e.encode(&w)
                    do { try HDF5AnswerArea(path: path, fd: areaFD).store(w.bytes) } catch { return 5 }
                    answerLength = w.bytes.count
                }
                alarm(0)
                var reply = [UInt8](repeating: 0, count: 16)
                reply.withUnsafeMutableBytes { r in
                    r.storeBytes(of: Int64(status.rawValue).littleEndian, as: Int64.self)
                    r.storeBytes(of: Int64(answerLength).littleEndian, toByteOffset: 8, as: Int64.self)
                }
                guard HDF5Reader.sendAll(socket, reply) else { return 0 }
            }
        }
    }

    /// Exactly `n` bytes from `fd`, or nil at end of file or on an error.
    private static func receive(_ fd: Int32, _ n: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: n)
        var got = 0
        while got < n {
            let r = bytes.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, n - got, 0) }
            if r < 0 && errno == EINTR { continue }
            if r <= 0 { return nil }
            got += r
        }
        return bytes
    }

    /// Opens `path` read-only with libhdf5 (in the reader process).
    private static func open(_ path: String) throws -> hid_t {
        let signature = H5Fis_hdf5(path)
        if signature == 0 { throw HDF5Error.notHDF5(file: path) }
        if signature < 0 { throw HDF5Error.cannotOpen(file: path, detail: HDF5Library.takeError()) }
        var reason = [CChar](repeating: 0, count: HDF5Library.messageSize)
        let f = shim_open_readonly(path, &reason, reason.count)
        if f < 0 { throw HDF5Error.cannotOpen(file: path, detail: HDF5Library.message(reason)) }
        return f
    }
}
