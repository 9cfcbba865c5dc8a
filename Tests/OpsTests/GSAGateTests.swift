import Glibc
import Ops
import TensorCore
import TestSupport
import Testing

@Suite struct GSAGateTests {
    /// logsigmoid(f)/τ in Double, the stable way.
    static func reference(_ f: Double, tau: Double) -> Double { (min(f, 0) - log1p(exp(-abs(f)))) / tau }

    @Test(arguments: [Float(8), 1])
    func forwardMatchesDoubleLogSigmoid(tau: Float) {
        let values: [Float] = [-1000, -88, -60, -20, -4, -1, -1e-3, 0, 1e-3, 1, 4, 20, 60, 88, 1000]
            + stride(from: Float(-30), through: 30, by: 0.0371).map { $0 }
        let f = Tensor(shape: [values.count], values: values), g = Tensor(zeros: [values.count])
        gsaGateForward(g: g, f: f, normalizer: tau)
        let expected = values.map { Self.reference(Double($0), tau: Double(tau)) }
        // relative to each value (no cancellation anywhere): f = 60 gives g ≈ −exp(−60)/τ, not 0. rtol 1e−5 is
        // fastExp's error at −60; atol 1e−37 (under Float's smallest normal) covers f ≥ 88, where exp(−f) is clamped.
        expectClose("g (τ \(tau))", g.doubles, expected, atol: 1e-37, rtol: 1e-5)
        // the τ = 8 table of gsa.md §2: f = −4, 0, 4 → α = 0.6052, 0.9170, 0.9977
        if tau == 8 {
            let alpha = [f.pointer[4], f.pointer[7], f.pointer[10]].map { Self.reference(Double($0), tau: 8) }.map(exp)
            expectClose("alpha", alpha, [0.6052, 0.9170, 0.9977], atol: 5e-5, rtol: 0)
        }
    }

    @Test func backwardMatchesCentralDifferences() {
        var rng = SeededRNG(seed: 7)
        let n = 64
        let f = Tensor(zeros: [2, n / 2])
        f.fillNormal(std: 4, rng: &rng)
        let w = randomDoubles(n, seed: 8)
        for tau in [Float(8), 1] {
            // L = Σ w ⊙ g(f), so dL/dg = w
            let dg = Tensor.from(w, shape: [2, n / 2]), df = Tensor(zeros: [2, n / 2])
            gsaGateBackward(df: df, dg: dg, f: f, normalizer: tau)
            gradCheck([GradCheckInput("f (τ \(tau))", values: f.doubles, analytic: df.doubles)], tolerance: .float) { x in
                let ff = Tensor.from(x[0], shape: [n]), gg = Tensor(zeros: [n])
                gsaGateForward(g: gg, f: ff, normalizer: tau)
                return zip(gg.doubles, w).reduce(0) { $0 + $1.0 * $1.1 }
            }
            // and against the closed form sigmoid(−f)/τ in Double
            let expected = (0..<n).map { Double(w[$0]) / (1 + exp(Double(f.pointer[$0]))) / Double(tau) }
            expectClose("df closed form (τ \(tau))", df.doubles, expected, atol: 1e-12, rtol: 2e-6)
        }
    }

    @Test func backwardAccumulates() {
        let f = Tensor(shape: [3], values: [-2, 0, 3]), dg = Tensor(shape: [3], values: [1, 1, 1])
        let df = Tensor(shape: [3], values: [10, 20, 30])
        gsaGateBackward(df: df, dg: dg, f: f, normalizer: 2)
        let expected = [10 + 1 / (1 + exp(-2.0)) / 2, 20 + 0.25, 30 + 1 / (1 + exp(3.0)) / 2]
        expectClose("df", df.doubles, expected, atol: 0, rtol: 1e-6)
    }

    @Test(arguments: [Float(8), 1])
    func extremeLogitsStayFinite(tau: Float) {
        let values: [Float] = [-60, 60, -1e4, 1e4, -Float.greatestFiniteMagnitude, Float.greatestFiniteMagnitude]
        let f = Tensor(shape: [values.count], values: values), g = Tensor(zeros: [values.count])
        gsaGateForward(g: g, f: f, normalizer: tau)
        let df = Tensor(zeros: [values.count])
        gsaGateBackward(df: df, dg: Tensor(shape: [values.count], repeating: 1), f: f, normalizer: tau)
        #expect(g.toArray().allSatisfy { $0.isFinite && $0 <= 0 }, "g \(g.toArray())")
        #expect(df.toArray().allSatisfy { $0.isFinite && $0 >= 0 }, "df \(df.toArray())")
        #expect(abs(g.pointer[0] - -60 / tau) < 1e-5 && g.pointer[1] > -1e-20 && g.pointer[1] < 0)
    }
}
