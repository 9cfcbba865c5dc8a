// The distillation losses as forward/backward pairs over rows of logits (so the LM head can be run
// block by block and the full [N, Vocab] matrices never exist at once):
// - next-token cross-entropy (transformers ForCausalLMLoss: mean over scored rows);
// - KL(teacher ‖ student) on temperature-scaled distributions, Σ p_t (log p_t − log p_s), the
//   "forward KL" of knowledge distillation (Hinton et al.; torchtune's ForwardKLLoss), with the
//   customary τ² factor so gradients keep their scale across temperatures;
// - mean squared error.
import Glibc
import TensorCore

/// Σ_i exp(scale·(x[i] − m)) with SIMD lanes (fastExp), reduced in Double.
@inline(__always) func sumExpScaled(_ x: UnsafePointer<Float>, _ n: Int, max m: Float, scale: Float) -> Double {
    let r = UnsafeRawPointer(x)
    var acc = Float16x()
    var i = 0
    while i + 16 <= n {
        acc += fastExp((r.loadUnaligned(fromByteOffset: i * 4, as: Float16x.self) - m) * scale)
        i += 16
    }
    var sum = 0.0
    for l in 0..<16 { sum += Double(acc[l]) }
    while i < n { sum += Double(fastExp((x[i] - m) * scale)); i += 1 }
    return sum
}

/// out[i] = gain · exp((x[i] − shift)·invTau − logZ) with SIMD lanes (fastExp): a row of softmax(x/τ) scaled
/// by `gain` (shift = the row's max, logZ its log-normaliser) or, with invTau 1 and logZ 0, exp(x − lse).
@inline(__always) func storeScaledSoftmax(_ x: UnsafePointer<Float>, _ n: Int, into out: UnsafeMutablePointer<Float>,
                                          shift: Float, invTau: Float, logZ: Float, gain: Float) {
    let src = UnsafeRawPointer(x), dst = UnsafeMutableRawPointer(out)
    var i = 0
    while i + 16 <= n {
        let lp = (src.loadUnaligned(fromByteOffset: i * 4, as: Float16x.self) - shift) * invTau - logZ
        dst.storeBytes(of: fastExp(lp) * gain, toByteOffset: i * 4, as: Float16x.self)
        i += 16
    }
    while i < n { out[i] = fastExp((x[i] - shift) * invTau - logZ) * gain; i += 1 }
}

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
                // d = scale · exp(x − lse)
                storeScaledSoftmax(row, v, into: dp + r * v, shift: Float(lse), invTau: 1, logZ: 0, gain: scale)
                (dp + r * v)[targets[r]] -= scale
            }
        }
    }
    return losses.reduce(0, +)
}

/// KL(p_teacher ‖ p_student) rows with temperature τ: p = softmax(logits / τ).
/// Returns Σ_r KL_r · τ² and, when `dStudent` is given, writes dStudent[r] = scale · τ · (p_s − p_t)
/// (the gradient of scale · τ² · KL_r with respect to the student logits; overwrites).
/// Everything runs in SIMD Float lanes (fastExp); sums are reduced in Double.
public func klDivergenceForwardBackward(dStudent: Tensor?, student: Tensor, teacher: Tensor, temperature tau: Float,
                                        scale: Float) -> Double {
    let v = student.lastDim, n = student.rowCount
    precondition(teacher.count == student.count, "klDivergence: student \(Shape.describe(student.shape)), teacher \(Shape.describe(teacher.shape))")
    var kls = [Double](repeating: 0, count: n)
    let sp = student.pointer, tp = teacher.pointer, dp = dStudent?.pointer
    let invTau = 1 / tau, gscale = scale * tau
    kls.withUnsafeMutableBufferPointer { kb in
        let out = kb.baseAddress!
        parallelFor(n) { r in
            let s = sp + r * v, t = tp + r * v
            let ms = vectorMax(s, v), mt = vectorMax(t, v)
            // log-normalisers of the scaled rows: log p_x,i = (x_i − m_x)/τ − lz_x
            let lzs = Float(log(sumExpScaled(s, v, max: ms, scale: invTau)))
            let lzt = Float(log(sumExpScaled(t, v, max: mt, scale: invTau)))
            let rs = UnsafeRawPointer(s), rt = UnsafeRawPointer(t)
            let d = dp.map { UnsafeMutableRawPointer($0 + r * v) }
            var acc = Float16x()
            var i = 0
            while i + 16 <= v {
                let lps = (rs.loadUnaligned(fromByteOffset: i * 4, as: Float16x.self) - ms) * invTau - lzs
                let lpt = (rt.loadUnaligned(fromByteOffset: i * 4, as: Float16x.self) - mt) * invTau - lzt
                let pt = fastExp(lpt)
                acc += pt * (lpt - lps)
                d?.storeBytes(of: (fastExp(lps) - pt) * gscale, toByteOffset: i * 4, as: Float16x.self)
                i += 16
            }
            var kl = 0.0
            for l in 0..<16 { kl += Double(acc[l]) }
            while i < v {
                let lps = (s[i] - ms) * invTau - lzs, lpt = (t[i] - mt) * invTau - lzt
                let pt = fastExp(lpt)
                kl += Double(pt * (lpt - lps))
                dp?[r * v + i] = (fastExp(lps) - pt) * gscale
                i += 1
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
