import Ops
import TensorCore
import TestSupport
import Testing

/// Random data helpers.
private func randn(_ n: Int, _ rng: inout SeededRNG, std: Double = 1, mean: Double = 0) -> [Double] {
    (0..<n).map { _ in mean + std * rng.nextNormal() }
}
private func tensor(_ v: [Double], _ shape: [Int]) -> Tensor { Tensor(shape: shape, values: v.map(Float.init)) }
/// Σ r ⊙ y in Double: a random linear functional of an op's output, whose gradient with respect to y is r.
private func dotLoss(_ y: Tensor, _ r: [Double]) -> Double { zip(y.toArray(), r).reduce(0) { $0 + Double($1.0) * $1.1 } }

@Suite struct OpGradientTests {
    @Test func linear() {
        var rng = SeededRNG(seed: 1)
        let (n, i, o) = (5, 7, 3)
        let x = randn(n * i, &rng), w = randn(o * i, &rng), r = randn(n * o, &rng)
        let dx = Tensor(zeros: [n, i]), dw = Tensor(zeros: [o, i])
        linearBackward(dx: dx, dw: dw, dy: tensor(r, [n, o]), x: tensor(x, [n, i]), w: tensor(w, [o, i]))
        gradCheck([GradCheckInput("x", values: x, analytic: dx.toArray().map(Double.init)),
                   GradCheckInput("w", values: w, analytic: dw.toArray().map(Double.init))], tolerance: .float) { v in
            let y = Tensor(zeros: [n, o])
            linearForward(y, tensor(v[0], [n, i]), tensor(v[1], [o, i]))
            return dotLoss(y, r)
        }
        // The column-block weight gradient equals the plain one.
        let dw2 = Tensor(zeros: [2, i])
        let wide = tensor(r, [n, o])
        linearWeightGradient(dw2, dy: wide.pointer, dyStride: o, col: 1, x: tensor(x, [n, i]))
        expectClose("column block", dw2.toArray(), Array(dw.toArray()[i..<(3 * i)]), atol: 1e-6, rtol: 1e-6)
    }

    @Test func rmsNorm() {
        var rng = SeededRNG(seed: 2)
        let (n, d) = (4, 9)
        let x = randn(n * d, &rng), w = randn(d, &rng, std: 0.3, mean: 1), r = randn(n * d, &rng)
        let rstd = Tensor(zeros: [n]), y = Tensor(zeros: [n, d])
        rmsNormForward(y, rstd: rstd, tensor(x, [n, d]), weight: tensor(w, [d]), eps: 1e-5)
        let dx = Tensor(zeros: [n, d]), dw = Tensor(zeros: [d])
        rmsNormBackward(dx: dx, dw: dw, dy: tensor(r, [n, d]), x: tensor(x, [n, d]), weight: tensor(w, [d]), rstd: rstd)
        gradCheck([GradCheckInput("x", values: x, analytic: dx.toArray().map(Double.init)),
                   GradCheckInput("w", values: w, analytic: dw.toArray().map(Double.init))], tolerance: .float) { v in
            let y = Tensor(zeros: [n, d])
            rmsNormForward(y, tensor(v[0], [n, d]), weight: tensor(v[1], [d]), eps: 1e-5)
            return dotLoss(y, r)
        }
    }

    @Test func siluAndSwiGLU() {
        var rng = SeededRNG(seed: 3)
        let x = randn(23, &rng, std: 3), r = randn(23, &rng)
        let dx = Tensor(zeros: [23])
        siluBackward(dx: dx, dy: tensor(r, [23]), x: tensor(x, [23]))
        gradCheck([GradCheckInput("x", values: x, analytic: dx.toArray().map(Double.init))], tolerance: .float) { v in
            let y = Tensor(zeros: [23])
            siluForward(y, tensor(v[0], [23]))
            return dotLoss(y, r)
        }
        let (n, inter) = (3, 5)
        let gu = randn(n * 2 * inter, &rng, std: 2), r2 = randn(n * inter, &rng)
        let dgu = Tensor(zeros: [n, 2 * inter])
        swigluBackward(dGateUp: dgu, dOut: tensor(r2, [n, inter]), gateUp: tensor(gu, [n, 2 * inter]))
        gradCheck([GradCheckInput("gateUp", values: gu, analytic: dgu.toArray().map(Double.init))], tolerance: .float) { v in
            let y = Tensor(zeros: [n, inter])
            swigluForward(y, gateUp: tensor(v[0], [n, 2 * inter]))
            return dotLoss(y, r2)
        }
    }

    @Test func embedding() {
        var rng = SeededRNG(seed: 4)
        let table = randn(6 * 4, &rng), ids = [1, 3, 1, 5], r = randn(4 * 4, &rng)
        let dt = Tensor(zeros: [6, 4])
        embeddingBackward(dTable: dt, dOut: tensor(r, [4, 4]), ids: ids)
        gradCheck([GradCheckInput("table", values: table, analytic: dt.toArray().map(Double.init))], tolerance: .float) { v in
            let y = Tensor(zeros: [4, 4])
            embeddingForward(y, ids: ids, table: tensor(v[0], [6, 4]))
            return dotLoss(y, r)
        }
    }

    @Test func crossEntropyKLAndMSE() {
        var rng = SeededRNG(seed: 5)
        let (n, v) = (3, 11)
        let logits = randn(n * v, &rng, std: 2), teacher = randn(n * v, &rng, std: 2), targets = [4, 0, 10]
        let d = Tensor(zeros: [n, v])
        _ = crossEntropyForwardBackward(dLogits: d, logits: tensor(logits, [n, v]), targets: targets, scale: 1.0 / 3)
        gradCheck([GradCheckInput("logits (CE)", values: logits, analytic: d.toArray().map(Double.init))], tolerance: .float) { x in
            crossEntropyForwardBackward(dLogits: nil, logits: tensor(x[0], [n, v]), targets: targets, scale: 1) / 3
        }
        for tau in [Float(1), 2.5] {
            let dk = Tensor(zeros: [n, v])
            _ = klDivergenceForwardBackward(dStudent: dk, student: tensor(logits, [n, v]), teacher: tensor(teacher, [n, v]), temperature: tau, scale: 0.5)
            gradCheck([GradCheckInput("student logits (KL τ=\(tau))", values: logits, analytic: dk.toArray().map(Double.init))],
                      tolerance: .float) { x in
                0.5 * klDivergenceForwardBackward(dStudent: nil, student: tensor(x[0], [n, v]), teacher: tensor(teacher, [n, v]), temperature: tau, scale: 1)
            }
        }
        // KL of a distribution with itself is 0; KL ≥ 0.
        #expect(klDivergenceForwardBackward(dStudent: nil, student: tensor(teacher, [n, v]), teacher: tensor(teacher, [n, v]), temperature: 1, scale: 1) < 1e-9)
        #expect(klDivergenceForwardBackward(dStudent: nil, student: tensor(logits, [n, v]), teacher: tensor(teacher, [n, v]), temperature: 1, scale: 1) > 0)
        let y = randn(7, &rng), t = randn(7, &rng)
        let dy = Tensor(zeros: [7])
        _ = squaredErrorForwardBackward(dy: dy, y: tensor(y, [7]), target: tensor(t, [7]), scale: 0.25)
        gradCheck([GradCheckInput("y (MSE)", values: y, analytic: dy.toArray().map(Double.init))], tolerance: .float) { x in
            0.25 * squaredErrorForwardBackward(dy: nil, y: tensor(x[0], [7]), target: tensor(t, [7]), scale: 1)
        }
    }

    /// The top-k targets (mlx-lm DWQ style): selection equals a full sort (ties: lower index first), the
    /// gradient passes a finite-difference check on odd sizes, and k = V gives the full KL.
    @Test func topKDivergence() {
        var rng = SeededRNG(seed: 17)
        let (n, v) = (3, 37)
        var logits = randn(n * v, &rng, std: 2)
        var teacher = randn(n * v, &rng, std: 2)
        teacher[5] = teacher[9]  // a tie: index 5 must come before 9 when both are selected
        teacher[v + 2] = teacher[v + 30]
        let tf = teacher.map(Float.init)
        for k in [1, 5, 13, v] {
            var idx = [Int32](repeating: -1, count: n * k), val = [Float](repeating: 0, count: n * k)
            topKRows(tensor(teacher, [n, v]), k: k, indices: &idx, values: &val)
            for r in 0..<n {
                let order = (0..<v).sorted { a, b in
                    tf[r * v + a] > tf[r * v + b] || (tf[r * v + a] == tf[r * v + b] && a < b)
                }
                #expect(idx[(r * k)..<(r * k + k)].map(Int.init) == Array(order.prefix(k)), "row \(r), k \(k)")
                #expect(val[(r * k)..<(r * k + k)].elementsEqual(order.prefix(k).map { tf[r * v + $0] }))
            }
            for tau in [Float(1), 2.5] {
                let d = Tensor(zeros: [n, v])
                _ = topKDivergenceForwardBackward(dStudent: d, student: tensor(logits, [n, v]), k: k, indices: idx, values: val,
                                                  temperature: tau, scale: 0.5)
                gradCheck([GradCheckInput("student logits (top-\(k) KL τ=\(tau))", values: logits, analytic: d.toArray().map(Double.init))],
                          tolerance: .float) { x in
                    0.5 * topKDivergenceForwardBackward(dStudent: nil, student: tensor(x[0], [n, v]), k: k, indices: idx, values: val,
                                                        temperature: tau, scale: 1)
                }
                if k == v {
                    let full = klDivergenceForwardBackward(dStudent: nil, student: tensor(logits, [n, v]), teacher: tensor(teacher, [n, v]),
                                                           temperature: tau, scale: 1)
                    let topK = topKDivergenceForwardBackward(dStudent: nil, student: tensor(logits, [n, v]), k: k, indices: idx, values: val,
                                                             temperature: tau, scale: 1)
                    #expect(abs(full - topK) <= 1e-5 * max(1, full), "k = V: \(topK) vs full \(full)")
                }
            }
        }
        // The student equal to the teacher on the top-k and far below elsewhere: KL_K → 0.
        logits = teacher
        let k = 4
        var idx = [Int32](repeating: 0, count: n * k), val = [Float](repeating: 0, count: n * k)
        topKRows(tensor(teacher, [n, v]), k: k, indices: &idx, values: &val)
        for r in 0..<n {
            let kept = Set(idx[(r * k)..<(r * k + k)].map(Int.init))
            for i in 0..<v where !kept.contains(i) { logits[r * v + i] = -1e4 }
        }
        #expect(topKDivergenceForwardBackward(dStudent: nil, student: tensor(logits, [n, v]), k: k, indices: idx, values: val,
                                              temperature: 1, scale: 1) < 1e-6)
    }

    @Test func lossesStayFiniteOnExtremeLogits() {
        let logits = Tensor(shape: [2, 4], values: [1e4, -1e4, 0, 3e38, -3e38, -3e38, -3e38, -3e38])
        let d = Tensor(zeros: [2, 4])
        let ce = crossEntropyForwardBackward(dLogits: d, logits: logits, targets: [1, 0], scale: 1)
        #expect(ce.isFinite && d.toArray().allSatisfy(\.isFinite))
        let kl = klDivergenceForwardBackward(dStudent: d, student: logits, teacher: Tensor(shape: [2, 4], values: [0, 0, 0, 0, 1e4, 0, -1e4, 5]), temperature: 1, scale: 1)
        #expect(kl.isFinite && d.toArray().allSatisfy(\.isFinite))
    }
}
