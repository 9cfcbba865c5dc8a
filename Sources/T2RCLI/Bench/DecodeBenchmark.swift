// `t2r bench decode`: time per generated token at contexts 128 … 8192, for the teacher (KV cache: its
// attention reads every cached key and value, so a step grows with the context) and the GSA student
// (recurrent state: constant work and memory per step). Each model prefills the text up to a context,
// then decodes `--decode-tokens` tokens one at a time (forward of one token + LM head), and the median
// step time is reported next to the bytes the model keeps per sequence: the teacher's KV cache at that
// context, the student's recurrent state (the same at every context).
import Models
import Reporting
import TensorCore

enum DecodeSpeedBenchmark: Benchmark {
    static let name = "decode"
    static let abstract = "Per-token decode time at contexts 128…8192: teacher (KV cache) vs student (recurrent state)."
    static let options = [
        OptionSpec("contexts", value: "N,N,…", help: "Contexts `decode` measures at.", default: "128,512,2048,8192"),
        OptionSpec("decode-tokens", value: "N", help: "Tokens `decode` generates at each context (the median step is reported).", default: "16"),
    ]

    static func run(_ session: BenchSession) throws -> [BenchmarkResult] {
        let threads = try session.configureThreads()
        let spec = session.args.string("contexts") ?? (session.quick ? "128,512" : "128,512,2048,8192")
        let contexts = try spec.split(separator: ",").map {
            guard let c = Int($0.trimmingCharacters(in: .whitespaces)), c > 0 else {
                throw UsageError(message: "--contexts expects positive integers separated by commas, got \"\(spec)\"", command: "bench")
            }
            return c
        }.sorted()
        let k = try session.args.int("decode-tokens", default: session.quick ? 4 : 16, min: 1)
        let tokens = try session.tokens(count: contexts.last! + k + 1)
        let teacher = try session.teacher().model
        let student = try session.student()
        var results: [BenchmarkResult] = []
        let subjects: [(String, any ComparableModel, (Int) -> Double)] = [
            ("teacher", teacher, { FLOPCount.teacherDecodeStep(teacher.config, context: $0) }),
            ("student", student, { FLOPCount.studentDecodeStep(student.config, context: $0) }),
        ]
        for (label, model, flops) in subjects {
            ProcessStats.resetPeakRSS()
            for p in DecodeBenchmark.run(model: model, tokens: tokens, contexts: contexts, steps: k) {
                let seconds = p.millisecondsPerToken / 1000
                var r = BenchmarkResult(name: name, variant: "\(label) ctx \(p.context)", seconds: seconds, bytes: 0, rateOf: "",
                                        peakRSSBytes: ProcessStats.peakRSS, threads: threads)
                r.tokensPerSecond = p.tokensPerSecond
                r.gflops = flops(p.context) / seconds / 1e9
                r.extra = [("model", .string(label)), ("context", .int(p.context)), ("decode_tokens", .int(k)),
                           ("ms_per_token", .double(p.millisecondsPerToken)), ("state_bytes", .int(p.stateBytes)),
                           ("prefill_seconds", .double(p.prefillSeconds))]
                session.log(r.line + "  \(Format.fixed(p.millisecondsPerToken, 2)) ms/token, state \(Format.bytes(p.stateBytes))")
                results.append(r)
            }
        }
        return results
    }
}
