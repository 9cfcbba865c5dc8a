// `t2r bench convert`: conversion throughput against the disk. Writes a synthetic Mistral-7B-shaped
// Hugging Face checkpoint (BF16, sharded like the published one, random values) into the scratch
// directory, evicts its pages from the page cache (fdatasync + POSIX_FADV_DONTNEED per shard; no root
// needed, and `resident_fraction` checks it), measures the disk's sequential read rate by reading the
// shards with read(2) (best of two cold passes) and its write rate by writing up to 2 GiB with O_DIRECT (as convert writes),
// and both at once (the shards read while as many bytes are written: convert's own load on the disk),
// evicts the shards again, then runs `t2r convert` on it as a child process and
// reports input bytes per second (as a fraction of the read rate) and the child's peak RSS (its VmHWM)
// against the largest tensor. Both directories are removed afterwards.
import CheckpointIO
import Conversion
import Foundation
import Glibc
import Models
import TensorCore

enum ConvertBenchmark: Benchmark {
    static let name = "convert"
    static let abstract = "`t2r convert` of a synthetic 7B-shaped BF16 sharded checkpoint vs the disk's read rate."
    static let options = [
        OptionSpec("convert-layers", value: "N", help: "Layers of the synthetic Mistral-7B-shaped checkpoint (32 = 14.5 GB).", default: "32"),
        OptionSpec("convert-out", value: "DIR", help: "Where `convert` writes the student (another disk, or /dev/shm to see the read-bound rate).",
                   default: "beside the checkpoint, in --dir"),
    ]

    /// Mistral-7B-v0.1's shapes with `layers` layers.
    static func config(layers: Int) -> TransformerConfig {
        TransformerConfig(family: .mistral, vocabSize: 32000, hiddenSize: 4096, intermediateSize: 14336, numLayers: layers,
                          numHeads: 32, numKVHeads: 8, rmsNormEps: 1e-5, ropeTheta: 10000, slidingWindow: 4096,
                          tieWordEmbeddings: false, maxPositionEmbeddings: 32768, declaredDtype: "bfloat16")
    }

    static func run(_ session: BenchSession) throws -> [BenchmarkResult] {
        let layers = try session.args.int("convert-layers", default: session.quick ? 2 : 32, min: 1)
        let c = config(layers: layers)
        let scratch = try session.scratch()
        let outParent = session.args.string("convert-out") ?? scratch
        let teacherDir = FileSystem.join(scratch, "synthetic-7b"), studentDir = FileSystem.join(outParent, "synthetic-7b-gsa")
        defer {
            removeTree(teacherDir)
            removeTree(studentDir)
        }
        let tensors = TeacherTensor.all(for: c)
        let inputBytes = tensors.reduce(0) { $0 + 2 * $1.expectedShape(c).reduce(1, *) }
        let largest = tensors.map { 2 * $0.expectedShape(c).reduce(1, *) }.max() ?? 0
        // The student is about as large as the teacher (plus f_proj), so both must fit with a margin.
        let sameDisk = outParent == scratch
        let free = freeBytes(scratch), needed = inputBytes * (sameDisk ? 21 : 11) / 10
        guard free > needed else {
            throw UsageError(message: "\(scratch) has \(Format.bytes(free)) free; the \(layers)-layer checkpoint\(sameDisk ? " and its conversion" : "") need about "
                + "\(Format.bytes(needed)); pass --convert-layers with fewer layers or --dir elsewhere", command: "bench")
        }
        if !sameDisk {
            try FileSystem.createDirectory(outParent)
            let room = freeBytes(outParent)
            guard room > inputBytes * 11 / 10 else {
                throw UsageError(message: "\(outParent) has \(Format.bytes(room)) free; the conversion needs about \(Format.bytes(inputBytes * 11 / 10))",
                                 command: "bench")
            }
        }

        session.log("writing a \(layers)-layer Mistral-7B-shaped BF16 checkpoint (\(Format.bytes(inputBytes))) to \(teacherDir)")
        try FileSystem.createDirectory(teacherDir)
        try writeFileAtomically(FileSystem.join(teacherDir, "config.json"), text: c.huggingFaceJSON(dtype: "bfloat16").serialized(indent: 2) + "\n")
        let entries = tensors.enumerated().map { i, t in
            SafetensorsEntry(name: t.huggingFaceName, dtype: .BF16, shape: t.expectedShape(c)) { buf in
                fillBF16(buf, seed: UInt64(i + 1))
            }
        }
        let generation = monotonicNow()
        let files = try ShardedSafetensorsWriter.write(entries, to: teacherDir, maxShardBytes: 5_000_000_000, directIO: true)
            .filter { $0.hasSuffix(".safetensors") }.map { FileSystem.join(teacherDir, $0) }
        session.log("written in \(Format.fixed(monotonicNow() - generation, 1)) s (\(files.count) shards)")

        // The disk's sequential read rate, from a cold page cache: the better of two passes (a shared virtual
        // disk's rate varies from moment to moment, and the limit is what it can do).
        var residentBefore = 0.0, readBytes = 0, readSeconds = Double.infinity
        for _ in 0..<2 {
            try evict(files)
            residentBefore = max(residentBefore, try residentFraction(files))
            let readStart = monotonicNow()
            readBytes = try readAll(files)
            readSeconds = min(readSeconds, monotonicNow() - readStart)
        }
        let diskRate = Double(readBytes) / readSeconds
        session.log("sequential read: \(Format.fixed(diskRate / 1e9, 2)) GB/s (\(Format.bytes(readBytes)) in \(Format.fixed(readSeconds, 1)) s, "
            + "\(Format.fixed(100 * residentBefore, 1))% resident before)")

        // The disk's sequential write rate as convert writes (O_DIRECT through AtomicFileWriter, then fsync):
        // the output is as large as the input, so this bounds the conversion too.
        let writeStart = monotonicNow()
        let written = try writeTestFile(FileSystem.join(outParent, "write-rate.bin"), bytes: min(inputBytes, 2 << 30))
        let writeRate = Double(written) / (monotonicNow() - writeStart)
        session.log("sequential write (O_DIRECT): \(Format.fixed(writeRate / 1e9, 2)) GB/s")

        // Both at once, as convert must: a thread writes as many bytes as the shards hold (O_DIRECT) while this one
        // reads the cold shards. Where reads and writes share the device's bandwidth, this rate (bytes each way per
        // second), not the read rate, bounds the conversion.
        try evict(files)
        let both = try readWhileWriting(files, writePath: FileSystem.join(outParent, "write-rate.bin"), bytes: inputBytes)
        let bothRate = Double(inputBytes) / both
        session.log("reading and writing at once: \(Format.fixed(bothRate / 1e9, 2)) GB/s each way")

        // `t2r convert` in a child process, from a cold page cache again.
        try evict(files)
        let residentConvert = try residentFraction(files)
        let child = try spawnAndWait(["convert", "--teacher", teacherDir, "--out", studentDir, "--overwrite"],
                                     output: FileSystem.join(scratch, "convert.log"))
        guard child.status == 0 else {
            let log = (try? readTextFile(FileSystem.join(scratch, "convert.log"))) ?? ""
            throw BenchFailure(message: "t2r convert exited with status \(child.status): \(log.suffix(2000))")
        }
        let outputBytes = try FileSystem.listDirectory(studentDir).filter { $0.hasSuffix(".safetensors") }
            .reduce(0) { $0 + (FileSystem.fileSize(FileSystem.join(studentDir, $1)) ?? 0) }
        var r = BenchmarkResult(name: name, variant: "\(layers)-layer 7B shape, BF16" + (sameDisk ? "" : ", output to \(outParent)"),
                                seconds: child.seconds, bytes: inputBytes,
                                rateOf: "BF16 input", peakRSSBytes: child.maxRSS, threads: 1)
        let rate = Double(inputBytes) / child.seconds
        r.extra = [("layers", .int(layers)), ("shards", .int(files.count)), ("input_bytes", .int(inputBytes)),
                   ("output_directory", .string(outParent)), ("output_on_the_input_disk", .bool(sameDisk)),
                   ("output_bytes", .int(outputBytes)), ("largest_tensor_bytes", .int(largest)),
                   ("peak_rss_over_largest_tensor", .double(Double(child.maxRSS) / Double(largest))),
                   ("disk_read_gigabytes_per_second", .double(diskRate / 1e9)),
                   ("fraction_of_disk_read", .double(rate / diskRate)),
                   ("disk_write_gigabytes_per_second", .double(writeRate / 1e9)),
                   ("fraction_of_disk_write", .double(rate / writeRate)),
                   ("disk_read_while_writing_gigabytes_per_second", .double(bothRate / 1e9)),
                   ("fraction_of_disk_read_while_writing", .double(rate / bothRate)),
                   ("resident_fraction_before_read", .double(residentBefore)),
                   ("resident_fraction_before_convert", .double(residentConvert))]
        return [r]
    }

    /// Pseudo-random BF16 values in ±[0.5, 2) (xorshift), cheap enough to write gigabytes quickly.
    static func fillBF16(_ buf: UnsafeMutableRawBufferPointer, seed: UInt64) {
        var x = 0x9E37_79B9_7F4A_7C15 &* seed | 1
        let p = buf.baseAddress!.assumingMemoryBound(to: UInt64.self)
        for j in 0..<(buf.count / 8) {
            x ^= x &<< 13; x ^= x &>> 7; x ^= x &<< 17
            p[j] = (x & 0x80FF_80FF_80FF_80FF) | 0x3F00_3F00_3F00_3F00  // four BF16 values
        }
    }

    /// Writes `bytes` bytes (8 MiB at a time) to `path` with direct I/O, commits and removes the file.
    static func writeTestFile(_ path: String, bytes: Int) throws -> Int {
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 8 << 20, alignment: 4096)
        defer { chunk.deallocate() }
        fillBF16(chunk, seed: 99)
        let w = try AtomicFileWriter(path: path, directIO: true)
        var left = bytes
        while left > 0 {
            let n = min(left, chunk.count)
            try w.write(UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
            left -= n
        }
        try w.commit()
        FileSystem.remove(path)
        return bytes
    }

    /// Seconds until reading `files` (read(2), as `readAll`) and writing `bytes` bytes to `writePath` (O_DIRECT, as
    /// `writeTestFile`, on another thread) have both finished.
    static func readWhileWriting(_ files: [String], writePath: String, bytes: Int) throws -> Double {
        let start = monotonicNow()
        let group = DispatchGroup(), failure = WriteFailure()
        DispatchQueue.global().async(group: group) {
            do { _ = try writeTestFile(writePath, bytes: bytes) } catch { failure.error = error }
        }
        _ = try readAll(files)
        group.wait()
        if let e = failure.error { throw e }
        return monotonicNow() - start
    }

    /// The background write's error, read after its group was waited on.
    final class WriteFailure: @unchecked Sendable { var error: Error? }

    static func freeBytes(_ path: String) -> Int {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return 0 }
        return Int(s.f_bavail) * Int(s.f_frsize)
    }

    /// Writes the files' dirty pages back and drops them from the page cache.
    static func evict(_ files: [String]) throws {
        for f in files {
            let fd = open(f, O_RDONLY | O_CLOEXEC)
            if fd < 0 { throw IOFailure(path: f, operation: "open", reason: String(cString: strerror(errno))) }
            defer { close(fd) }
            _ = fdatasync(fd)
            _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_DONTNEED))
        }
    }

    /// The fraction of the files' pages resident in the page cache (mincore).
    static func residentFraction(_ files: [String]) throws -> Double {
        var resident = 0, total = 0
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        for f in files {
            let m = try MappedFileView(path: f)
            defer { m.close() }
            let pages = (m.count + page - 1) / page
            var vec = [UInt8](repeating: 0, count: pages)
            if mincore(m.base, m.count, &vec) == 0 { resident += vec.reduce(0) { $0 + Int($1 & 1) } }
            total += pages
        }
        return total > 0 ? Double(resident) / Double(total) : 0
    }

    /// Reads the files sequentially with read(2) into one 8 MiB buffer; returns the bytes read.
    static func readAll(_ files: [String]) throws -> Int {
        let size = 8 << 20
        let buf = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 4096)
        defer { buf.deallocate() }
        var total = 0
        for f in files {
            let fd = open(f, O_RDONLY | O_CLOEXEC)
            if fd < 0 { throw IOFailure(path: f, operation: "open", reason: String(cString: strerror(errno))) }
            defer { close(fd) }
            _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_SEQUENTIAL))
            while true {
                let n = read(fd, buf, size)
                if n < 0 { throw IOFailure(path: f, operation: "read", reason: String(cString: strerror(errno))) }
                if n == 0 { break }
                total += n
            }
        }
        return total
    }

    /// Runs this executable with `args` (stdout and stderr to `output`); returns its exit status, wall time
    /// and peak RSS.
    static func spawnAndWait(_ args: [String], output: String) throws -> (status: Int32, seconds: Double, maxRSS: Int) {
        let exe = "/proc/self/exe"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([CommandLine.arguments[0]] + args).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let start = monotonicNow()
        let rc = posix_spawn(&pid, exe, &actions, nil, argv, environ)
        guard rc == 0 else { throw BenchFailure(message: "cannot start \(exe): \(String(cString: strerror(rc)))") }
        // The child's peak RSS: its VmHWM, sampled every 5 ms until it exits (the kernel's high-water mark, so
        // only a peak reached in the last 5 ms could be missed). wait4's ru_maxrss cannot be used: posix_spawn
        // vforks, and exec carries the parent's high-water mark into the child's.
        var status: Int32 = 0, peak = 0
        while true {
            peak = max(peak, ProcessStats.peakRSS(pid: pid))
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0 && errno != EINTR { throw BenchFailure(message: "waitpid: \(String(cString: strerror(errno)))") }
            usleep(5000)
        }
        let seconds = monotonicNow() - start
        let exit = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return (exit, seconds, peak)
    }
}

/// A measurement that could not be made.
struct BenchFailure: T2RError {
    let message: String
    var category: ErrorCategory { .failure }
    var description: String { message }
}

/// A read-only mapping for residency checks (closed explicitly).
struct MappedFileView {
    let base: UnsafeMutableRawPointer?
    let count: Int

    init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw IOFailure(path: path, operation: "open", reason: String(cString: strerror(errno))) }
        defer { Glibc.close(fd) }
        var st = stat()
        fstat(fd, &st)
        count = Int(st.st_size)
        let p = count > 0 ? mmap(nil, count, PROT_READ, MAP_SHARED, fd, 0) : nil
        base = (p == MAP_FAILED) ? nil : p
    }

    func close() { if let base { munmap(base, count) } }
}
