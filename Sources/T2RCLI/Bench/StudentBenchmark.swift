// `t2r bench student`: prefill of one sequence of T = 2048 tokens by the GSA student (the teacher
// converted with the recipes' options; GSA layers in the chunked form) and by the teacher, on the same
// tokens, with the LM head on the last position only (what generation needs). The student's result
// carries its speed relative to the teacher's (target: at least 1/1.5 of it).
import Models
import TensorCore

enum StudentBenchmark: Benchmark {
    static let name = "student"
    static let abstract = "Student vs teacher prefill of one sequence of T = 2048 tokens."
    static let options = [
        OptionSpec("length", value: "T", help: "Sequence length of `student`.", default: "2048"),
        OptionSpec("runs", value: "N", help: "Repetitions per variant; the best time is reported.", default: "3"),
    ]

    static func run(_ session: BenchSession) throws -> [BenchmarkResult] {
        let threads = try session.configureThreads()
        let T = try session.args.int("length", default: 2048, min: 1)
        let runs = try session.args.int("runs", default: session.quick ? 1 : 3, min: 1)
        let tokens = try session.tokens(count: T)
        let teacher = try session.teacher().model
        let student = try session.student()

        func measure(_ label: String, flops: Double, _ body: () -> Void) -> BenchmarkResult {
            body()  // warm-up
            let m = ProcessStats.measure(runs: runs, body)
            var r = BenchmarkResult(name: name, variant: "\(label) T=\(T)", seconds: m.best, bytes: 0, rateOf: "",
                                    peakRSSBytes: m.peakRSS, threads: threads)
            r.gflops = flops / m.best / 1e9
            r.tokensPerSecond = Double(T) / m.best
            r.extra = [("model", .string(label)), ("length", .int(T)), ("flops", .double(flops)),
                       ("runs", .array(m.all.map { .double($0) }))]
            session.log(r.line)
            return r
        }
        let t = measure("teacher", flops: FLOPCount.teacherForward(teacher.config, batch: 1, length: T, logitRows: 1)) {
            let h = teacher.forward(tokens: tokens, batch: 1)
            _ = teacher.logits(h.rows((T - 1)..<T))
        }
        var s = measure("student", flops: FLOPCount.studentForward(student.config, batch: 1, length: T, logitRows: 1)) {
            let h = student.forward(tokens: tokens, batch: 1)
            _ = student.logits(h.rows((T - 1)..<T))
        }
        s.extra.append(("speed_relative_to_teacher", .double(s.tokensPerSecond / t.tokensPerSecond)))
        return [t, s]
    }
}
