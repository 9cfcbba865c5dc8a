// The exp/softmax paths with extreme inputs: logits and scores near Float's range, huge spreads between
// entries, tiny temperatures, saturated gates, huge queries and keys. Outputs must stay finite and right
// (a max-subtracted softmax never overflows), and a NaN must propagate (so the trainer's NaN/Inf guard
// sees it) instead of being turned into a finite number. The gate's ±60 and ±Float.max cases and the GSA
// core's saturated gates are in GSAGateTests and GatedSlotAttentionTests.
import Foundation
import Ops
import TensorCore
import TestSupport
import Testing

/// Rows that stress max subtraction: the largest finite floats, huge spreads, all-equal huge values,
/// -Float.greatestFiniteMagnitude next to 0; 37 entries so both the SIMD body and the tail run.
func extremeRows() -> [[Float]] {
    let big = Float.greatestFiniteMagnitude
    func row(_ f: (Int) -> Float) -> [Float] { (0..<37).map(f) }
    return [
        row { $0 == 5 ? big : -big },
        row { $0 == 36 ? 1e30 : Float($0) },
        row { _ in 3e38 },
        row { $0 % 2 == 0 ? 1e4 : -1e4 },
        row { $0 == 0 ? 0 : -big },
        row { Float($0) * 1e36 },
    ]
}

@Suite struct ExtremeInputTests {
    @Test func fastExpSaturatesAndPropagatesNaN() {
        let inputs: [Float] = [-.infinity, -1e30, -100, -87.5, 0, 88.5, 100, 1e30, .infinity]
        for x in inputs {
            let e = fastExp(x)
            #expect(e.isFinite && e >= 0, "fastExp(\(x)) = \(e)")
            #expect(fastExp(Float16x(repeating: x))[3] == e, "SIMD and scalar fastExp differ at \(x)")
        }
        #expect(fastExp(Float.nan).isNaN)
        #expect(fastExp(Float16x(repeating: .nan))[0].isNaN)
        #expect(abs(fastExp(-80) - expf(-80)) <= 1e-6 * expf(-80))  // accurate down to its clamp at -87
    }

    @Test(arguments: extremeRows())
    func softmaxOfExtremeRowsIsADistribution(_ row: [Float]) {
        var x = row
        x.withUnsafeMutableBufferPointer { softmaxInPlace($0.baseAddress!, $0.count) }
        #expect(x.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 }, "\(x)")
        #expect(abs(x.reduce(0, +) - 1) < 1e-5)
        // The largest input keeps the largest probability.
        #expect(x.indices.max { x[$0] < x[$1] } == row.indices.max { row[$0] < row[$1] } || Set(row).count == 1)
    }

    @Test func softmaxPropagatesNaN() {
        var x: [Float] = (0..<37).map(Float.init)
        x[20] = .nan
        x.withUnsafeMutableBufferPointer { softmaxInPlace($0.baseAddress!, $0.count) }
        #expect(x.contains { $0.isNaN }, "a NaN score vanished in softmax: \(x)")
    }

    @Test(arguments: extremeRows())
    func logSumExpOfExtremeRowsIsExactEnough(_ row: [Float]) {
        let lse = row.withUnsafeBufferPointer { logSumExp($0.baseAddress!, $0.count) }
        // In Double: max + log Σ exp(x − max), exact for these rows.
        let m = Double(row.max()!)
        let reference = m + log(row.reduce(0.0) { $0 + exp(Double($1) - m) })
        #expect(lse.isFinite && abs(lse - reference) <= 1e-6 * max(1, abs(reference)), "\(lse) vs \(reference)")
        // NLL of every target is finite and non-negative.
        let logits = Tensor(shape: [1, row.count], values: row)
        for t in [0, 5, 36] {
            let nll = negativeLogLikelihood(logits: logits, targets: [t])[0]
            #expect(nll >= 0, "nll[\(t)] = \(nll)")
        }
    }

    /// Cross-entropy and KL on rows with spreads up to ±1e6 and temperatures down to 1e-3 (logits / τ up
    /// to 1e9): finite losses and gradients, gradients bounded by the softmax difference.
    @Test(arguments: [Float(1e-3), 0.5, 1, 4])
    func lossesStayFiniteForExtremeSpreadsAndTemperatures(_ tau: Float) {
        let v = 37
        var rng = SeededRNG(seed: 5)
        let student = Tensor(zeros: [4, v]), teacher = Tensor(zeros: [4, v])
        for i in 0..<student.count {
            student.pointer[i] = Float(rng.nextNormal()) * [1e6, 1e4, 1, 1e-3][i / v]
            teacher.pointer[i] = Float(rng.nextNormal()) * [1, 1e6, 1e-3, 1e4][i / v]
        }
        let d = Tensor(zeros: [4, v])
        let kl = klDivergenceForwardBackward(dStudent: d, student: student, teacher: teacher, temperature: tau, scale: 1)
        #expect(kl.isFinite && kl >= 0, "KL \(kl) at τ \(tau)")
        // dStudent = τ · (p_s − p_t): each entry within ±τ.
        #expect(d.toArray().allSatisfy { $0.isFinite && abs($0) <= tau * 1.0001 }, "KL gradient at τ \(tau)")
        let ce = crossEntropyForwardBackward(dLogits: d, logits: student, targets: [0, 7, 19, 36], scale: 1)
        #expect(ce.isFinite && ce >= 0)
        #expect(d.toArray().allSatisfy { $0.isFinite && abs($0) <= 1.0001 })
    }

    /// Differences beyond Float's range (3e38 against -3e38) make the true KL about 1e39: the loss comes
    /// out +∞, never NaN or a wrong finite value, so the trainer's guard stops or rolls back the step.
    @Test func overflowingKLIsInfiniteNotNaN() {
        let student = Tensor(shape: [1, 4], values: [3e38, -3e38, -3e38, -3e38])
        let teacher = Tensor(shape: [1, 4], values: [0, 0, 0, 0])
        let kl = klDivergenceForwardBackward(dStudent: nil, student: student, teacher: teacher, temperature: 1, scale: 1)
        #expect(kl == .infinity || kl > 1e38, "KL \(kl)")
        #expect(!kl.isNaN)
    }

    /// Softmax attention with scores near 1e30: each query attends (all but) entirely to its best key,
    /// and the output is that key's value, finite.
    @Test func attentionWithHugeScoresPicksTheBestKey() {
        let t = 9, dh = 4
        let g = AttentionGeometry(batch: 1, queryLength: t, heads: 1, kvHeads: 1, headDim: dh)
        var q = [Float](repeating: 0, count: t * dh), k = q, v = q
        for i in 0..<t {
            q[i * dh] = 1e15
            k[i * dh] = Float(i + 1) * 1e15  // the last visible key scores highest: ~i·1e30
            for j in 0..<dh { v[i * dh + j] = Float(i * 10 + j) }
        }
        var out = [Float](repeating: .nan, count: t * dh)
        q.withUnsafeBufferPointer { qp in k.withUnsafeBufferPointer { kp in v.withUnsafeBufferPointer { vp in
            out.withUnsafeMutableBufferPointer { op in
                causalAttentionForward(AttentionOperands(out: op.baseAddress!, outRowStride: dh, q: qp.baseAddress!, qRowStride: dh,
                                                         keys: kp.baseAddress!, values: vp.baseAddress!, kvRowStride: dh, kvBatchStride: t * dh),
                                       g, scratch: ScratchPool())
            }
        } } }
        for i in 0..<t {
            #expect(Array(out[(i * dh)..<((i + 1) * dh)]) == Array(v[(i * dh)..<((i + 1) * dh)]), "query \(i): \(out[(i * dh)..<((i + 1) * dh)])")
        }
    }

    /// GSA with queries and keys 100× too large (slot scores ~1e4) and saturated gates: the slot softmax
    /// stays finite and matches the Double reference.
    @Test func gsaWithHugeQueriesAndKeysStaysFinite() {
        let shapes = GSAShapes(batch: 1, length: 70, heads: 2, kvHeads: 1, keyDim: 8, valueDim: 4, slots: 4)
        let c = GSACase(shapes, seed: 9, initialState: false) { rng in rng.nextDouble() < 0.5 ? -60 : 60 }
        for t in [c.q, c.k] { for i in 0..<t.count { t.pointer[i] *= 100 } }
        let o = Tensor(zeros: shapes.outputShape)
        gsaForward(o: o, hkT: nil, hvT: nil, cache: nil, q: c.q, k: c.k, v: c.v, g: c.g, hk0: nil, hv0: nil,
                   shapes: shapes, workspace: GSAWorkspace())
        #expect(o.toArray().allSatisfy { $0.isFinite })
        let ref = c.naiveForward().o
        let worst = zip(o.toArray(), ref).map { abs(Double($0) - $1) / max(1, abs($1)) }.max() ?? 0
        #expect(worst < 1e-3, "largest relative error \(worst)")
    }
}
