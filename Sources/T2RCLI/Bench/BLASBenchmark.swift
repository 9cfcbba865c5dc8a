// `t2r bench blas`: the machine's limit — OpenBLAS sgemm GFLOP/s at the shapes the models use, with one
// thread and with two. Every other measurement is reported as a fraction of the best 2-thread rate
// measured here (in the same process, so the same load; `BenchSession.referenceRate`).
import Foundation
import TensorCore

enum BLASBenchmark: Benchmark {
    static let name = "blas"
    static let abstract = "OpenBLAS sgemm GFLOP/s at model shapes, 1 and 2 threads (the reference rate)."
    static let options: [OptionSpec] = []

    /// (label, M, N, K, transA, transB): y = x·Wᵀ for SmolLM2 projections at 2048 tokens, the backward
    /// layouts, and a square reference.
    static let shapes: [(String, Int, Int, Int, Bool, Bool)] = [
        ("2048×1152×576 (qkvf)", 2048, 1152, 576, false, true),
        ("2048×3072×576 (gate|up)", 2048, 3072, 576, false, true),
        ("2048×576×1536 (down)", 2048, 576, 1536, false, true),
        ("2048×576×3072 dX (Bᵀ)", 2048, 576, 3072, false, false),
        ("1536×576×2048 dW (Aᵀ)", 1536, 576, 2048, true, false),
        ("1024 square", 1024, 1024, 1024, false, false),
    ]

    /// GFLOP/s per shape with `threads` threads (best of several timed repetitions of ≥ 0.3 s).
    static func measure(threads: Int) -> [(String, Double)] {
        let before = ComputeThreads.count
        ComputeThreads.configure(threads: threads)
        defer { ComputeThreads.configure(threads: before) }
        var out: [(String, Double)] = []
        for (label, m, n, k, ta, tb) in shapes {
            var rng = SeededRNG(seed: 1)
            let a = Tensor(zeros: [m * k]), b = Tensor(zeros: [k * n]), c = Tensor(zeros: [m * n])
            a.fillUniform(bound: 1, rng: &rng)
            b.fillUniform(bound: 1, rng: &rng)
            let flops = 2.0 * Double(m) * Double(n) * Double(k)
            func once() {
                BLAS.sgemm(transA: ta, transB: tb, m: m, n: n, k: k, a: a.pointer, lda: ta ? m : k, b: b.pointer, ldb: tb ? k : n,
                           c: c.pointer, ldc: n)
            }
            once()  // warm-up: thread pool, page faults
            let reps = max(1, Int(0.1 / (flops / 100e9)))
            var best = Double.infinity
            for _ in 0..<3 {
                let t0 = monotonicNow()
                for _ in 0..<reps { once() }
                best = min(best, (monotonicNow() - t0) / Double(reps))
            }
            out.append((label, flops / best / 1e9))
        }
        return out
    }

    static func run(_ session: BenchSession) throws -> [BenchmarkResult] {
        _ = try session.configureThreads()  // OpenBLAS's settings as every measurement has them
        session.log(ComputeThreads.blasDescription)
        var results: [BenchmarkResult] = []
        var best2 = 0.0
        for threads in [1, 2] {
            for (label, gflops) in measure(threads: threads) {
                if threads == 2 { best2 = max(best2, gflops) }
                var r = BenchmarkResult(name: name, variant: "\(threads)T \(label)", seconds: 0, bytes: 0, rateOf: "", peakRSSBytes: ProcessStats.peakRSS,
                                        threads: threads)
                r.gflops = gflops
                results.append(r)
            }
        }
        session.setReferenceRate(best2)
        for i in results.indices { results[i].sgemmGflops = best2 }
        return results
    }
}

