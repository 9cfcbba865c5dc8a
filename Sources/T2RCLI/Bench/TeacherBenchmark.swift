// `t2r bench teacher`: teacher prefill throughput at context 512, measured the way llama-perplexity
// runs (tools/perplexity/perplexity.cpp): the text is cut into non-overlapping chunks of `context`
// tokens (the first token of each chunk replaced by BOS when the tokenizer adds one); `--batch` chunks (4,
// llama-perplexity's default batch of 2048 tokens at context 512) go through one forward pass as separate
// sequences, and the second half of each chunk's positions is scored, so its perplexity is directly
// comparable with llama-perplexity's `-c 512` figure. Two variants: logits for the scored half only (rows ctx/2 ..<
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
        OptionSpec("batch", value: "N", help: "Chunks per forward pass of `teacher` (llama-perplexity's batch of 2048 tokens ÷ context).",
                   default: "2048 / context"),
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
        let perPass = try session.args.int("batch", default: max(1, 2048 / ctx), min: 1)
        var results: [BenchmarkResult] = []
        for allLogits in [false, true] {
            // Warm-up: one pass (page faults, thread pools, RoPE table).
            _ = teacher.forward(tokens: (0..<min(perPass, chunks)).flatMap(chunk), batch: min(perPass, chunks))
            var nll = 0.0, scored = 0
            let m = ProcessStats.measure(runs: 1) {
                for start in stride(from: 0, to: chunks, by: perPass) {
                    let n = min(perPass, chunks - start)
                    let pass = (start..<(start + n)).map(chunk)
                    let hidden = teacher.forward(tokens: pass.flatMap { $0 }, batch: n)
                    for (j, c) in pass.enumerated() {
                        // Logits for rows from ..< ctx of the chunk (llama-perplexity asks for rows ctx/2 ..< ctx;
                        // `all logits` for every row); the last row has no target: its logits are computed (in the
                        // same matrix product, target 0) and discarded. Rows first ..< ctx-1 are scored.
                        let from = allLogits ? 0 : first
                        let v = teacher.negativeLogLikelihood(hidden: hidden.rows((j * ctx + from)..<((j + 1) * ctx)),
                                                              targets: Array(c[(from + 1)...]) + [0])
                        for x in v[(first - from)..<(v.count - 1)] { nll += x }
                        scored += ctx - 1 - first
                    }
                }
            }
            let rows = allLogits ? ctx : ctx - first
            let flops = Double(chunks) * FLOPCount.teacherForward(teacher.config, batch: 1, length: ctx, logitRows: rows)
            var r = BenchmarkResult(name: name, variant: "ctx \(ctx), \(allLogits ? "all logits" : "scored-half logits")", seconds: m.best,
                                    bytes: 0, rateOf: "", peakRSSBytes: m.peakRSS, threads: threads)
            r.gflops = flops / m.best / 1e9
            r.tokensPerSecond = Double(chunks * ctx) / m.best
            r.extra = [("context", .int(ctx)), ("chunks", .int(chunks)), ("chunks_per_pass", .int(perPass)), ("logit_rows_per_chunk", .int(rows)),
                       ("flops", .double(flops)), ("scored_tokens", .int(scored)),
                       ("perplexity", .double(exp(nll / Double(scored)))), ("teacher", .string(session.teacherPath))]
            session.log(r.line + String(format: "  PPL %.4f over %d scored tokens", exp(nll / Double(scored)), scored))
            results.append(r)
        }
        return results
    }
}
