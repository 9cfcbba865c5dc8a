// The GSA slot gate: slot-gate logits f → log forget gate g = logsigmoid(f) / τ (fla 0.6.0
// fla/layers/gsa.py: `f = F.logsigmoid(f) / self.gate_logit_normalizer`; ../shared/reference/gsa.md §2).
// The forget gate is α = exp(g) = sigmoid(f)^(1/τ) ∈ (0, 1] and the slot write weight s = 1 − α, which the
// core op derives from g itself (GatedSlotAttention.swift). Forward/backward pair, llm.c convention:
// outputs first, then inputs, then dims; the backward accumulates.
import TensorCore

/// g = logsigmoid(f) / τ, elementwise. f, g: any shape, usually [B, T, Hkv, M] (same element count).
///
/// Stable for any finite f: logsigmoid(f) = min(f, 0) − log1p(exp(−|f|)), so neither exp overflows
/// (f → −∞ gives g ≈ f/τ, f → +∞ gives g ≈ −exp(−f)/τ, both without cancellation).
public func gsaGateForward(g: Tensor, f: Tensor, normalizer tau: Float) {
    precondition(g.count == f.count, "gsaGateForward: g \(Shape.describe(g.shape)) vs f \(Shape.describe(f.shape))")
    precondition(tau > 0, "gsaGateForward: gate_logit_normalizer \(tau) must be positive")
    let pg = g.pointer, pf = f.pointer
    let invTau = 1 / tau
    parallelRanges(f.count) { range in
        for i in range {
            let x = pf[i]
            let e = fastExp(-abs(x))  // ∈ (0, 1]
            pg[i] = (min(x, 0) - log1pUnit(e)) * invTau
        }
    }
}

/// log1p(e) for e ∈ [0, 1], branch-free (so the gate loop vectorizes): log(1 + e) = 2·atanh(y) with
/// y = e / (2 + e) ∈ [0, 1/3], and atanh(y) = y·(1 + y²/3 + y⁴/5 + … + y¹⁴/15) truncated where the next term is
/// below 2e−9 relative. No cancellation for tiny e (the result is ≈ e).
@inline(__always) func log1pUnit(_ e: Float) -> Float {
    let y = e / (2 + e), y2 = y * y
    var p: Float = 1.0 / 15
    p = p * y2 + 1.0 / 13
    p = p * y2 + 1.0 / 11
    p = p * y2 + 1.0 / 9
    p = p * y2 + 1.0 / 7
    p = p * y2 + 1.0 / 5
    p = p * y2 + 1.0 / 3
    p = p * y2 + 1
    return 2 * y * p
}

/// df += dg · ∂g/∂f with ∂g/∂f = sigmoid(−f) / τ (the derivative of logsigmoid is sigmoid(−f)).
///
/// In the forward this was: g = logsigmoid(f) / τ. The gradient dg must already include the path
/// through s = 1 − exp(g) (the core op's backward adds −exp(g)·ds into dg). f, df, dg: same shape.
public func gsaGateBackward(df: Tensor, dg: Tensor, f: Tensor, normalizer tau: Float) {
    precondition(df.count == f.count && dg.count == f.count,
                 "gsaGateBackward: df \(Shape.describe(df.shape)), dg \(Shape.describe(dg.shape)), f \(Shape.describe(f.shape))")
    precondition(tau > 0, "gsaGateBackward: gate_logit_normalizer \(tau) must be positive")
    let pdf = df.pointer, pdg = dg.pointer, pf = f.pointer
    let invTau = 1 / tau
    parallelRanges(f.count) { range in
        for i in range {
            let x = pf[i]
            let e = fastExp(-abs(x))  // ∈ (0, 1]
            // sigmoid(−x) = 1/(1 + exp(x)): = e/(1 + e) for x ≥ 0, 1/(1 + e) for x < 0 (no overflow).
            let sigNeg = (x >= 0 ? e : 1) / (1 + e)
            pdf[i] += pdg[i] * sigNeg * invTau
        }
    }
}
