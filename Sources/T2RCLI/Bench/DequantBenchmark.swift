// `t2r bench dequant`: dequantise every tensor of a GGUF file (SmolLM2-135M-Instruct Q4_1 by default)
// to Float32, with one worker thread and with two. Rate = Float32 bytes produced per second.
import CheckpointIO
import TensorCore

enum DequantBenchmark: Benchmark {
    static let name = "dequant"
    static let abstract = "Dequantise all tensors of a GGUF to F32 (1 and 2 threads)."
    static let defaultPath = "checkpoints/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf"
    static let options = [
        OptionSpec("gguf", value: "PATH", help: "GGUF file for `dequant`.", default: defaultPath),
        OptionSpec("runs", value: "N", help: "Repetitions per variant; the best time is reported.", default: "3"),
    ]

    static func run(_ session: BenchSession) throws -> [BenchmarkResult] {
        let args = session.args
        let path = args.string("gguf") ?? defaultPath
        let runs = try args.int("runs", default: 3, min: 1)
        let f = try GGUFFile(path: path)
        let tensors = f.tensors.filter(\.type.isDecodable)
        let weights = tensors.reduce(0) { $0 + $1.elementCount }
        let inputBytes = tensors.reduce(0) { $0 + $1.byteCount }
        // Fault the mapping in once, so every variant reads from memory.
        var touch: UInt8 = 0
        for i in stride(from: 0, to: f.file.count, by: 4096) { touch &+= f.file.bytes[i] }
        session.log("\(path): \(tensors.count) tensors, \(weights) weights, \(inputBytes) bytes (checksum \(touch))")
        var results: [BenchmarkResult] = []
        for threads in [1, 2] {
            ComputeThreads.configure(threads: threads)
            let m = try ProcessStats.measure(runs: runs) {
                for t in tensors { _ = try f.loadFloat32(t.name) }
            }
            results.append(BenchmarkResult(
                name: name, variant: threads == 1 ? "1 thread" : "\(threads) threads", seconds: m.best, bytes: weights * 4,
                rateOf: "F32 output", peakRSSBytes: m.peakRSS, threads: threads,
                extra: [("file", .string(path)), ("tensors", .int(tensors.count)), ("weights", .int(weights)),
                        ("input_bytes", .int(inputBytes)), ("runs", .array(m.all.map { .double($0) }))]))
        }
        return results
    }
}
