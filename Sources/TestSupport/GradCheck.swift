// Table-driven central-difference gradient checking (tinygrad extra/gradcheck.py): every named input of
// a scalar loss is perturbed element by element, (L(x + ε·e_i) − L(x − ε·e_i)) / 2ε is compared with the
// analytic gradient, and each input's comparison is reported by name. Iterating over a table of inputs
// (instead of copy-pasted lines) avoids fla's `tri_dg, s.grad = g.grad.clone(), None` kind of slip.
import Testing

/// One named input of a loss under a gradient check: its current values and the analytic dL/dx.
public struct GradCheckInput {
    /// The input's name in failure messages (reported as "d<name>").
    public let name: String
    /// The point at which the gradient is checked.
    public let values: [Double]
    /// The analytic dL/dx at `values`, same count.
    public let analytic: [Double]

    /// A named input with its values and analytic gradient.
    public init(_ name: String, values: [Double], analytic: [Double]) {
        precondition(values.count == analytic.count, "GradCheckInput \(name): \(values.count) values, \(analytic.count) gradients")
        self.name = name
        self.values = values
        self.analytic = analytic
    }
}

/// Step and tolerances of a gradient check: an element passes when |analytic − numeric| ≤ atol + rtol·|numeric|.
public struct GradCheckTolerance: Sendable {
    /// ε, the central-difference step.
    public let eps: Double
    /// Absolute tolerance.
    public let atol: Double
    /// Tolerance relative to |numeric|.
    public let rtol: Double

    /// Richardson extrapolation: the numeric gradient is (4·D(ε/2) − D(ε)) / 3 from the central differences
    /// D at ε and ε/2, which cancels their O(ε²) truncation error (for losses with strong curvature, such as
    /// softmax attention, at the large ε a Float forward needs).
    public let richardson: Bool

    /// A custom step and tolerance (prefer the documented presets).
    public init(eps: Double, atol: Double, rtol: Double, richardson: Bool = false) {
        self.eps = eps
        self.atol = atol
        self.rtol = rtol
        self.richardson = richardson
    }

    /// For a loss computed in Double with O(1) inputs and loss values up to ~100: ε = 1e−6 leaves a truncation
    /// error ~ε²·|L'''| ≈ 1e−12 and a rounding error ~1e−16·|L|/ε ≤ 1e−8, so atol 1e−7, rtol 1e−6.
    public static let double = GradCheckTolerance(eps: 1e-6, atol: 1e-7, rtol: 1e-6)

    /// For a loss whose forward runs in Float (accumulated in Double): ε = 1e−2 keeps the rounding error
    /// ~6e−8·|L|/ε ≈ 1e−5·|L| small, at a truncation error ~1e−5·|L'''|; atol 1e−4, rtol 1e−3.
    public static let float = GradCheckTolerance(eps: 1e-2, atol: 1e-4, rtol: 1e-3)
}

/// Checks the analytic gradients of every input against central differences of `loss`.
///
/// - `loss` receives the values of all inputs, in table order, with one element perturbed.
/// - `maxElementsPerInput` limits the work on large inputs to an evenly strided subset (always including
///   the first and last element); nil checks every element.
/// - Records one test issue per input that fails (naming the input, the worst element and the first
///   offending pairs) and returns every comparison.
@discardableResult
public func gradCheck(_ inputs: [GradCheckInput], tolerance: GradCheckTolerance = .double,
                      maxElementsPerInput: Int? = nil, loss: ([[Double]]) -> Double,
                      sourceLocation: SourceLocation = #_sourceLocation) -> [Comparison] {
    var current = inputs.map(\.values)
    var results: [Comparison] = []
    for (n, input) in inputs.enumerated() {
        let count = input.values.count
        let indices: [Int]
        if let cap = maxElementsPerInput, count > cap, cap >= 2 {
            indices = (0..<cap).map { $0 * (count - 1) / (cap - 1) }
        } else {
            indices = Array(0..<count)
        }
        var numeric: [Double] = [], analytic: [Double] = []
        for i in indices {
            let x = input.values[i]
            func central(_ eps: Double) -> Double {
                current[n][i] = x + eps
                let plus = loss(current)
                current[n][i] = x - eps
                let minus = loss(current)
                current[n][i] = x
                return (plus - minus) / (2 * eps)
            }
            let d = central(tolerance.eps)
            numeric.append(tolerance.richardson ? (4 * central(tolerance.eps / 2) - d) / 3 : d)
            analytic.append(input.analytic[i])
        }
        let c = compare("d\(input.name) (\(indices.count) of \(count) elements)", analytic, numeric,
                        atol: tolerance.atol, rtol: tolerance.rtol)
        #expect(c.passed, "\(c)", sourceLocation: sourceLocation)
        results.append(c)
    }
    return results
}
