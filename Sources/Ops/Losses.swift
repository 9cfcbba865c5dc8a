// The distillation losses as forward/backward pairs over rows of logits (so the LM head can be run
// block by block and the full [N, Vocab] matrices never exist at once):
// - next-token cross-entropy (transformers ForCausalLMLoss: mean over scored rows);
// - KL(teacher ‖ student) on temperature-scaled distributions, Σ p_t (log p_t − log p_s), the
//   "forward KL" of knowledge distillation (Hinton et al.; torchtune's ForwardKLLoss), with the
//   customary τ² factor so gradients keep their scale across temperatures;
// - mean squared error.
import Glibc
import TensorCore

/// Cross-entropy rows: returns Σ_r −log softmax(logits[r])[targets[r]] and writes
/// dLogits[r] = scale · (softmax(logits[r]) − onehot(targets[r])) (overwrites; `scale` is typically 1/N_total).
public func crossEntropyForwardBackward(dLogits: Tensor?, logits: Tensor, targets: [Int], scale: Float) -> Double {
    let v = logits.lastDim, n = logits.rowCount
    precondition(targets.count == n, "crossEntropy: \(targets.count) targets for \(n) rows")
    var losses = [Double](repeating: 0, count: n)
    let lp = logits.pointer, dp = dLogits?.pointer
    losses.withUnsafeMutableBufferPointer { lb in
        let out = lb.baseAddress!
        parallelFor(n) { r in
            let row = lp + r * v
            let lse = logSumExp(row, v)
            out[r] = lse - Double(row[targets[r]])
            if let dp {
                let drow = dp + r * v
                let m = Float(lse)
                for i in 0..<v { drow[i] = scale * fastExp(row[i] - m) }
                drow[targets[r]] -= scale
            }
        }
    }
    return losses.reduce(0, +)
}

/// KL(p_teacher ‖ p_student) rows with temperature τ: p = softmax(logits / τ).
/// Returns Σ_r KL_r · τ² and, when `dStudent` is given, writes dStudent[r] = scale · τ · (p_s − p_t)
/// (the gradient of scale · τ² · KL_r with respect to the student logits; overwrites).
public func klDivergenceForwardBackward(dStudent: Tensor?, student: Tensor, teacher: Tensor, temperature tau: Float,
                                        scale: Float) -> Double {
    let v = student.lastDim, n = student.rowCount
    precondition(teacher.count == student.count, "klDivergence: student \(Shape.describe(student.shape)), teacher \(Shape.describe(teacher.shape))")
    var kls = [Double](repeating: 0, count: n)
    let sp = student.pointer, tp = teacher.pointer, dp = dStudent?.pointer
    let invTau = 1 / tau
    kls.withUnsafeMutableBufferPointer { kb in
        let out = kb.baseAddress!
        parallelFor(n) { r in
            let s = sp + r * v, t = tp + r * v
            // log-sum-exps of the scaled rows
            var ms = -Float.infinity, mt = -Float.infinity
            for i in 0..<v { ms = max(ms, s[i] * invTau); mt = max(mt, t[i] * invTau) }
            var zs = 0.0, zt = 0.0
            for i in 0..<v {
                zs += Double(fastExp(s[i] * invTau - ms))
                zt += Double(fastExp(t[i] * invTau - mt))
            }
            let lzs = Double(ms) + log(zs), lzt = Double(mt) + log(zt)
            var kl = 0.0
            let d = dp.map { $0 + r * v }
            for i in 0..<v {
                let lpt = Double(t[i] * invTau) - lzt, lps = Double(s[i] * invTau) - lzs
                let pt = exp(lpt)
                kl += pt * (lpt - lps)
                d?[i] = scale * tau * Float(exp(lps) - pt)
            }
            out[r] = max(0, kl) * Double(tau * tau)
        }
    }
    return kls.reduce(0, +)
}

/// Σ (y − t)² over all elements; writes dy = scale · 2(y − t) when given (overwrites).
public func squaredErrorForwardBackward(dy: Tensor?, y: Tensor, target: Tensor, scale: Float) -> Double {
    precondition(y.count == target.count, "squaredError: y \(Shape.describe(y.shape)), target \(Shape.describe(target.shape))")
    let yp = y.pointer, tp = target.pointer, dp = dy?.pointer
    var sum = 0.0
    for i in 0..<y.count {
        let e = yp[i] - tp[i]
        sum += Double(e) * Double(e)
        dp?[i] = scale * 2 * e
    }
    return sum
}
