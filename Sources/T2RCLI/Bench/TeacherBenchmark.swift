// `t2r bench teacher`: teacher prefill throughput at context 512, measured the way llama-perplexity
// runs (tools/perplexity/perplexity.cpp): the text is cut into non-overlapping chunks of `context`
// tokens (the first token of each chunk replaced by BOS when the tokenizer adds one); each chunk is one
// forward pass, and the second half of its positions is scored, so its perplexity is directly comparable
// with llama-perplexity's `-c 512` figure. Two variants: logits for the scored half only (rows ctx/2 ..<
// ctx, as llama-perplexity requests them), and logits for every position (the work `t2r perplexity`
// does). Tokens/s counts every token of every chunk, as llama.cpp's "prompt eval" rate does.
import Foundation
import Models
import Ops
import TensorCore

enum TeacherBenchmark: Benchmark {
    static let name = "teacher"
    static let abstract = "Teacher prefill at context 512 as llama-perplexity runs it (scored-half logits, and all logits)."
    static let options = [
        OptionSpec("context", value: "N", help: "Context (chunk length) of `teacher`.", default: "512"),
        OptionSpec("chunks", value: "N", help: "Chunks `teacher` evaluates (llama-perplexity --chunks).", default: "32"),
    ]

    static func run(_ session: BenchSession) throws -> [BenchmarkResult] {
        let threads = try session.configureThreads()
        let ctx = try session.args.int("context", default: 512, min: 4)
        let (ids, addsBOS) = try session.tokens()
        let wanted = try session.args.int("chunks", default: session.quick ? 4 : 32, min: 1)
        let chunks = min(wanted, ids.count / ctx)
        guard chunks > 0 else { throw UsageError(message: "the text has \(ids.count) tokens, fewer than one chunk of \(ctx)", command: "bench") }
        let teacher = try session.teacher().model
        let bos = teacher.config.bosTokenId
        func chunk(_ i: Int) -> [Int] {
            var c = Array(ids[(i * ctx)..<((i + 1) * ctx)])
            if addsBOS, let bos { c[0] = bos }
            return c
        }
        let first = ctx / 2
        var results: [BenchmarkResult] = []
        for allLogits in [false, true] {
            // Warm-up: one chunk (page faults, thread pools, RoPE table).
            _ = teacher.forward(tokens: chunk(0), batch: 1)
            var nll = 0.0, scored = 0
            let m = ProcessStats.measure(runs: 1) {
                for i in 0..<chunks {
                    let c = chunk(i)
                    let hidden = teacher.forward(tokens: c, batch: 1)
                    if allLogits {
                        // Every position's logits (the last row has no target: computed and discarded).
                        let v = teacher.negativeLogLikelihood(hidden: hidden.rows(0..<(ctx - 1)), targets: Array(c[1...]))
                        _ = teacher.logits(hidden.rows((ctx - 1)..<ctx))
                        for x in v[first...] { nll += x }  // the same positions as llama-perplexity scores
                        scored += v.count - first
                    } else {
                        // llama-perplexity: logits for rows first ..< ctx; rows first ..< ctx-1 are scored.
                        let v = teacher.negativeLogLikelihood(hidden: hidden.rows(first..<(ctx - 1)), targets: Array(c[(first + 1)...]))
                        _ = teacher.logits(hidden.rows((ctx - 1)..<ctx))
                        nll += v.reduce(0, +)
                        scored += v.count
                    }
                }
            }
            let rows = allLogits ? ctx : ctx - first
            let flops = Double(chunks) * FLOPCount.teacherForward(teacher.config, batch: 1, length: ctx, logitRows: rows)
            var r = BenchmarkResult(name: name, variant: "ctx \(ctx), \(allLogits ? "all logits" : "scored-half logits")", seconds: m.best,
                                    bytes: 0, rateOf: "", peakRSSBytes: m.peakRSS, threads: threads)
            r.gflops = flops / m.best / 1e9
            r.tokensPerSecond = Double(chunks * ctx) / m.best
            r.extra = [("context", .int(ctx)), ("chunks", .int(chunks)), ("logit_rows_per_chunk", .int(rows)),
                       ("flops", .double(flops)), ("scored_tokens", .int(scored)),
                       ("perplexity", .double(exp(nll / Double(scored)))), ("teacher", .string(session.teacherPath))]
            session.log(r.line + String(format: "  PPL %.4f over %d scored tokens", exp(nll / Double(scored)), scored))
            results.append(r)
        }
        return results
    }
}
