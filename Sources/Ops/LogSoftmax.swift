// Row-wise log-sum-exp and negative log-likelihood of targets, the quantities perplexity needs.
import Glibc
import TensorCore

/// log Σ_i exp(x[i]) of n floats, max-subtracted; the sum is accumulated in SIMD Float lanes and
/// reduced in Double.
@inline(__always) public func logSumExp(_ x: UnsafePointer<Float>, _ n: Int) -> Double {
    let m = vectorMax(x, n)
    let raw = UnsafeRawPointer(x)
    var a0 = Float16x(), a1 = Float16x()
    var i = 0
    while i + 32 <= n {
        a0 += fastExp(raw.loadUnaligned(fromByteOffset: i * 4, as: Float16x.self) - m)
        a1 += fastExp(raw.loadUnaligned(fromByteOffset: (i + 16) * 4, as: Float16x.self) - m)
        i += 32
    }
    var sum = 0.0
    for l in 0..<16 { sum += Double(a0[l]) + Double(a1[l]) }
    while i < n { sum += Double(fastExp(x[i] - m)); i += 1 }
    return Double(m) + log(sum)
}

/// nll[r] = logsumexp(logits[r, :]) − logits[r, targets[r]] for logits: [N, Vocab].
public func negativeLogLikelihood(logits: Tensor, targets: [Int]) -> [Double] {
    let v = logits.lastDim, n = logits.rowCount
    precondition(targets.count == n, "negativeLogLikelihood: \(targets.count) targets for \(n) rows")
    var out = [Double](repeating: 0, count: n)
    let lp = logits.pointer
    out.withUnsafeMutableBufferPointer { o in
        let op = o.baseAddress!
        parallelFor(n) { r in
            let row = lp + r * v
            precondition(targets[r] >= 0 && targets[r] < v, "target id \(targets[r]) outside the vocabulary 0..<\(v)")
            op[r] = logSumExp(row, v) - Double(row[targets[r]])
        }
    }
    return out
}
