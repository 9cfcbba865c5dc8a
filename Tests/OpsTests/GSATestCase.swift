// Random GSA inputs for the Ops tests: Float tensors for the fast kernels and the identical values as Double
// arrays for the naive reference (the Double inputs are the Float values, so only arithmetic differs).
import Ops
import TensorCore
import TestSupport
import Testing

/// One set of GSA core inputs: q, k, v from N(0, 1), gate logits f → g = logsigmoid(f)/τ, optional initial states.
struct GSACase {
    let shapes: GSAShapes
    let q, k, v, f, g: Tensor
    let hk0, hv0: Tensor?

    /// `gateLogit` draws each slot-gate logit f (default N(0, 2²)).
    init(_ shapes: GSAShapes, seed: UInt64, tau: Float = 8, initialState: Bool,
         gateLogit: ((inout SeededRNG) -> Float)? = nil) {
        self.shapes = shapes
        var rng = SeededRNG(seed: seed)
        q = Tensor(zeros: shapes.queryShape)
        k = Tensor(zeros: shapes.keyShape)
        v = Tensor(zeros: shapes.valueShape)
        f = Tensor(zeros: shapes.gateShape)
        g = Tensor(zeros: shapes.gateShape)
        q.fillNormal(std: 1, rng: &rng)
        k.fillNormal(std: 1, rng: &rng)
        v.fillNormal(std: 1, rng: &rng)
        if let gateLogit {
            for i in 0..<f.count { f.pointer[i] = gateLogit(&rng) }
        } else {
            f.fillNormal(std: 2, rng: &rng)
        }
        gsaGateForward(g: g, f: f, normalizer: tau)
        if initialState {
            let a = Tensor(zeros: shapes.keyStateShape), b = Tensor(zeros: shapes.valueStateShape)
            a.fillNormal(std: 0.5, rng: &rng)
            b.fillNormal(std: 0.5, rng: &rng)
            (hk0, hv0) = (a, b)
        } else {
            (hk0, hv0) = (nil, nil)
        }
    }

    /// The naive Double forward on the same values: (o, hkT, hvT).
    func naiveForward(scale: Double = 1) -> (o: [Double], hk: [Double], hv: [Double]) {
        var o: [Double] = [], hk: [Double] = [], hv: [Double] = []
        gsaNaiveForward(o: &o, hkT: &hk, hvT: &hv, q: q.doubles, k: k.doubles, v: v.doubles, g: g.doubles,
                        hk0: hk0?.doubles, hv0: hv0?.doubles, shapes: shapes, scale: scale)
        return (o, hk, hv)
    }
}

extension Tensor {
    var doubles: [Double] { toArray().map(Double.init) }

    /// A tensor of `shape` holding `values` rounded to Float.
    static func from(_ values: [Double], shape: [Int]) -> Tensor {
        Tensor(shape: shape, values: values.map(Float.init))
    }
}

/// A deterministic pseudo-random Double array (for upstream gradients and loss weights).
func randomDoubles(_ n: Int, seed: UInt64, std: Double = 1) -> [Double] {
    var rng = SeededRNG(seed: seed)
    return (0..<n).map { _ in std * rng.nextNormal() }
}

/// Float results against a Double reference with one relative tolerance: |a − e| ≤ tol·max|e| + tol·|e|.
func expectMatches(_ name: String, _ actual: Tensor, _ expected: [Double], tol: Double,
                   sourceLocation: SourceLocation = #_sourceLocation) {
    let scale = expected.reduce(0) { max($0, abs($1)) }
    expectClose(name, actual.doubles, expected, atol: tol * max(scale, 1e-30), rtol: tol, sourceLocation: sourceLocation)
}
