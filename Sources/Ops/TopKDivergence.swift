// Distillation against the teacher's top-k logits (stored per batch as mlx-lm's DWQ stores its targets,
// `--target-dir`: the k largest logits and their indices): the teacher's distribution is renormalised
// over its k largest logits, p_i = softmax(t_K / τ)_i for i ∈ K, and compared with the student's full
// distribution q = softmax(s / τ):
//   KL_K(p ‖ q) = τ² Σ_{i∈K} p_i (log p_i − log q_i),   ∂/∂s_j = τ (q_j − p_j [j ∈ K]).
// DWQ renormalises the student over the same k tokens instead; with the full softmax the student is also
// pushed to put no mass outside the teacher's top k (KL_K = KL(p ‖ q_K) − log q(K)). With k = vocabulary
// size both are the full KL of `klDivergenceForwardBackward`. Only the k (index, logit) pairs of each row
// are needed, so the teacher's targets can be cached on disk at k·8 bytes a row.
import Glibc
import TensorCore

/// The k largest entries of each row of `logits` [N, V]: writes indices[r·k + j] and values[r·k + j], j-th
/// largest first (equal values: the lower index first). Requires 1 ≤ k ≤ V.
public func topKRows(_ logits: Tensor, k: Int, indices: UnsafeMutablePointer<Int32>, values: UnsafeMutablePointer<Float>) {
    let v = logits.lastDim, n = logits.rowCount
    precondition(k >= 1 && k <= v, "topKRows: k = \(k) for rows of \(v)")
    let lp = logits.pointer
    parallelFor(n) { r in
        let row = lp + r * v
        let oi = indices + r * k, ov = values + r * k
        // A min-heap of the k best (value, index) so far; "worse" = smaller value, or equal value and larger index.
        @inline(__always) func worse(_ a: Int, _ b: Int) -> Bool {
            ov[a] < ov[b] || (ov[a] == ov[b] && oi[a] > oi[b])
        }
        @inline(__always) func swapAt(_ a: Int, _ b: Int) {
            let tv = ov[a]; ov[a] = ov[b]; ov[b] = tv
            let ti = oi[a]; oi[a] = oi[b]; oi[b] = ti
        }
        func siftDown(_ start: Int, _ count: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, rr = l + 1
                var m = i
                if l < count && worse(l, m) { m = l }
                if rr < count && worse(rr, m) { m = rr }
                if m == i { return }
                swapAt(i, m)
                i = m
            }
        }
        for i in 0..<k { ov[i] = row[i]; oi[i] = Int32(i) }
        for i in stride(from: k / 2 - 1, through: 0, by: -1) { siftDown(i, k) }
        for i in k..<v {
            let x = row[i]
            // Later indices lose ties, so only a strictly larger value enters.
            if x > ov[0] {
                ov[0] = x; oi[0] = Int32(i)
                siftDown(0, k)
            }
        }
        // Heap sort: repeatedly move the worst to the end → best first.
        var count = k
        while count > 1 {
            swapAt(0, count - 1)
            count -= 1
            siftDown(0, count)
        }
    }
}

/// KL of each row's student logits `student` [N, V] from the teacher's top-k targets (`indices`, `values`:
/// N·k each, as `topKRows` writes them) at temperature τ. Returns Σ_r τ² KL_K,r and, when `dStudent` is
/// given, writes dStudent[r] = scale · τ · (q_r − p_r) (overwrites).
public func topKDivergenceForwardBackward(dStudent: Tensor?, student: Tensor, k: Int, indices: UnsafePointer<Int32>,
                                          values: UnsafePointer<Float>, temperature tau: Float, scale: Float) -> Double {
    let v = student.lastDim, n = student.rowCount
    precondition(k >= 1 && k <= v, "topKDivergence: k = \(k) for rows of \(v)")
    var kls = [Double](repeating: 0, count: n)
    let sp = student.pointer, dp = dStudent?.pointer
    let invTau = 1 / tau, gscale = scale * tau
    kls.withUnsafeMutableBufferPointer { kb in
        let out = kb.baseAddress!
        parallelFor(n) { r in
            let s = sp + r * v, ti = indices + r * k, tv = values + r * k
            let ms = vectorMax(s, v)
            let lzs = Float(log(sumExpScaled(s, v, max: ms, scale: invTau)))
            var mt = -Float.infinity
            for j in 0..<k { mt = max(mt, tv[j]) }
            var zt = 0.0
            for j in 0..<k { zt += Double(fastExp((tv[j] - mt) * invTau)) }
            let lzt = Float(log(zt))
            // d = scale·τ·q over the row, then − scale·τ·p at the teacher's indices.
            if let dp { storeScaledSoftmax(s, v, into: dp + r * v, shift: ms, invTau: invTau, logZ: lzs, gain: gscale) }
            var kl = 0.0
            for j in 0..<k {
                let idx = Int(ti[j])
                let lpt = (tv[j] - mt) * invTau - lzt, lps = (s[idx] - ms) * invTau - lzs
                let pt = fastExp(lpt)
                kl += Double(pt) * Double(lpt - lps)
                dp?[r * v + idx] -= pt * gscale
            }
            out[r] = max(0, kl) * Double(tau * tau)
        }
    }
    return kls.reduce(0, +)
}
