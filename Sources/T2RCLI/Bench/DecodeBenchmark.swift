// `t2r bench decode`: time per generated token at contexts 128 … 8192, for the teacher (KV cache: its
// attention reads every cached key and value, so a step grows with the context) and the GSA student
// (recurrent state: constant work and memory per step). Each model prefills the text up to a context,
// then decodes `--decode-tokens` tokens one at a time (forward of one token + LM head), and the median
// step time is reported next to the bytes the model keeps per sequence: the teacher's KV cache at that
// context, the student's recurrent state (the same at every context).
import Models
import TensorCore

enum DecodeBenchmark: Benchmark {
    static let name = "decode"
    static let abstract = "Per-token decode time at contexts 128…8192: teacher (KV cache) vs student (recurrent state)."
    static let options = [
        OptionSpec("contexts", value: "N,N,…", help: "Contexts `decode` measures at.", default: "128,512,2048,8192"),
        OptionSpec("decode-tokens", value: "N", help: "Tokens `decode` generates at each context (the median step is reported).", default: "16"),
    ]

    /// A model under test: prefill `tokens` (continuing), decode one token (forward + head), state bytes.
    struct Subject {
        let label: String
        let prefill: ([Int]) -> Void
        let step: (Int) -> Void
        let stateBytes: (Int) -> Int
        let flops: (Int) -> Double
    }

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
        let maxContext = contexts.last! + k
        let tokens = try session.tokens(count: maxContext + 1)
        let teacher = try session.teacher().model
        let student = try session.student()

        let cache = TeacherKVCache(config: teacher.config, batch: 1, capacity: maxContext)
        let teacherSubject = Subject(
            label: "teacher", prefill: { _ = teacher.forward(tokens: $0, batch: 1, cache: cache) },
            step: { _ = teacher.logits(teacher.forward(tokens: [$0], batch: 1, cache: cache)) },
            stateBytes: { TeacherKVCache.bytes(config: teacher.config, batch: 1, length: $0) },
            flops: { FLOPCount.teacherDecodeStep(teacher.config, context: $0) })
        let state = StudentState(config: student.config, batch: 1, capacity: maxContext)
        let studentSubject = Subject(
            label: "student", prefill: { _ = student.forward(tokens: $0, batch: 1, state: state) },
            step: { _ = student.logits(student.forward(tokens: [$0], batch: 1, state: state)) },
            stateBytes: { _ in state.recurrentBytes + state.cacheBytesInUse },
            flops: { FLOPCount.studentDecodeStep(student.config, context: $0) })

        var results: [BenchmarkResult] = []
        for subject in [teacherSubject, studentSubject] {
            ProcessStats.resetPeakRSS()
            var position = 0
            for c in contexts {
                // Prefill up to the context (in pieces of at most 2048 tokens), then decode k tokens.
                let t0 = monotonicNow()
                while position < c {
                    let e = min(c, position + 2048)
                    subject.prefill(Array(tokens[position..<e]))
                    position = e
                }
                let prefillSeconds = monotonicNow() - t0
                var times: [Double] = []
                let context = position
                for _ in 0..<k {
                    let s = monotonicNow()
                    subject.step(tokens[position])
                    times.append(monotonicNow() - s)
                    position += 1
                }
                let sorted = times.sorted(), median = sorted[sorted.count / 2]
                var r = BenchmarkResult(name: name, variant: "\(subject.label) ctx \(c)", seconds: median, bytes: 0, rateOf: "",
                                        peakRSSBytes: ProcessStats.peakRSS, threads: threads)
                r.tokensPerSecond = 1 / median
                r.gflops = subject.flops(context) / median / 1e9
                r.extra = [("model", .string(subject.label)), ("context", .int(c)), ("decode_tokens", .int(k)),
                           ("ms_per_token", .double(1000 * median)), ("ms_per_token_min", .double(1000 * sorted[0])),
                           ("state_bytes", .int(subject.stateBytes(context))), ("prefill_seconds", .double(prefillSeconds)),
                           ("step_times", .array(times.map { .double($0) }))]
                session.log(r.line + "  \(Format.fixed(1000 * median, 2)) ms/token, state \(Format.bytes(subject.stateBytes(context)))")
                results.append(r)
            }
        }
        return results
    }
}
