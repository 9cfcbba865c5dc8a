// `t2r bench read`: writes a BF16 safetensors file of about 1 GB in a temporary directory, then reads
// every tensor through `TensorStore.loadFloat32` (BF16 → F32) on one core. Rate = file bytes read per
// second (the file was just written, so it is served from the page cache). A second variant converts
// into one reused buffer, separating the cost of allocating fresh output. The file is removed after.
import CheckpointIO
import Foundation
import TensorCore

enum ReadBenchmark: Benchmark {
    static let name = "read"
    static let abstract = "Read a ~1 GB BF16 safetensors file as F32 on one core."
    static let options = [
        OptionSpec("size-mb", value: "N", help: "Size of the generated file for `read`, in MiB.", default: "1024"),
        OptionSpec("runs", value: "N", help: "Repetitions per variant; the best time is reported.", default: "3"),
    ]

    static func run(_ session: BenchSession) throws -> [BenchmarkResult] {
        let args = session.args
        let sizeMB = try args.int("size-mb", default: 1024, min: 32)
        let runs = try args.int("runs", default: 3, min: 1)
        let path = FileSystem.join(try session.scratch(), "bf16.safetensors")
        defer { FileSystem.remove(path) }
        // 32 MiB tensors [4096, 4096] of BF16 values of unit magnitude (a cheap xorshift fills them).
        let count = sizeMB / 32
        let entries = (0..<count).map { i in
            SafetensorsEntry(name: "layers.\(i).weight", dtype: .BF16, shape: [4096, 4096]) { buf in
                var x = UInt64(0x9E37_79B9_7F4A_7C15) &+ UInt64(i)
                let p = buf.baseAddress!.assumingMemoryBound(to: UInt16.self)
                for j in 0..<(buf.count / 2) {
                    x ^= x &<< 13; x ^= x &>> 7; x ^= x &<< 17
                    p[j] = UInt16(truncatingIfNeeded: x & 0x80FF) | 0x3F00  // ±[0.5, 2)
                }
            }
        }
        session.log("writing \(path) (\(count) tensors of 32 MiB)")
        try SafetensorsWriter.write(entries, to: path)
        let file = try SafetensorsFile(path: path)
        let bytes = file.totalBytes
        ComputeThreads.configure(threads: 1)
        var checksum: Float = 0
        let m = try ProcessStats.measure(runs: runs) {
            for e in file.entries {
                let t = try file.loadFloat32(e.name)
                checksum += t.pointer[t.count - 1]
            }
        }
        // The same conversion into one reused buffer: what reading costs without allocating fresh output.
        let buffer = Tensor(uninitialized: [4096, 4096])
        let reused = try ProcessStats.measure(runs: runs) {
            for e in file.entries {
                let raw = try file.rawBytes(e.name)
                Convert.toFloat32(raw.baseAddress!, encoding: .bfloat16, buffer.pointer, count: raw.count / 2)
                checksum += buffer.pointer[buffer.count - 1]
            }
        }
        session.log("read \(bytes) bytes \(2 * runs)× (checksum \(checksum))")
        return [BenchmarkResult(
            name: name, variant: "1 core", seconds: m.best, bytes: bytes, rateOf: "BF16 input", peakRSSBytes: m.peakRSS,
            threads: 1,
            extra: [("file_bytes", .int(FileSystem.fileSize(path) ?? 0)), ("tensors", .int(count)),
                    ("output_gigabytes_per_second", .double(Double(bytes * 2) / m.best / 1e9)),
                    ("runs", .array(m.all.map { .double($0) }))]),
                BenchmarkResult(
                    name: name, variant: "1 core, reused output buffer", seconds: reused.best, bytes: bytes, rateOf: "BF16 input",
                    peakRSSBytes: reused.peakRSS, threads: 1,
                    extra: [("tensors", .int(count)), ("runs", .array(reused.all.map { .double($0) }))])]
    }
}
