// Numerical comparison with named, magnitude-based tolerances: |a − e| ≤ atol + rtol·|e|
// (swift-numerics' isApproximatelyEqual). Failures name the tensor, the worst index and the first
// offending pairs, and forward the caller's source location.
import Testing
import TensorCore

public struct Comparison: CustomStringConvertible {
    public let name: String
    public let count: Int
    public let maxAbsDiff: Double
    public let worstIndex: Int
    public let worstActual: Double
    public let worstExpected: Double
    /// max |a − e| / max |e|: the error relative to the tensor's scale.
    public let relativeToMax: Double
    public let violations: Int
    public let firstViolations: [(Int, Double, Double)]

    public var passed: Bool { violations == 0 }

    public var description: String {
        var s = "\(name): \(count) values, max |Δ| \(maxAbsDiff) at [\(worstIndex)] (actual \(worstActual), expected \(worstExpected)), "
            + "max|Δ|/max|e| \(relativeToMax)"
        if violations > 0 {
            s += "; \(violations) out of tolerance, first: "
                + firstViolations.map { "[\($0.0)] \($0.1) vs \($0.2)" }.joined(separator: ", ")
        }
        return s
    }
}

/// Compares `actual` with `expected` elementwise.
public func compare(_ name: String, _ actual: [Double], _ expected: [Double], atol: Double, rtol: Double) -> Comparison {
    precondition(actual.count == expected.count, "\(name): \(actual.count) values vs \(expected.count) expected")
    var maxDiff = 0.0, worst = 0, violations = 0, maxE = 0.0
    var first: [(Int, Double, Double)] = []
    for i in 0..<actual.count {
        let a = actual[i], e = expected[i]
        let d = abs(a - e)
        maxE = max(maxE, abs(e))
        if d > maxDiff || d.isNaN { maxDiff = d.isNaN ? .infinity : d; worst = i }
        if !(d <= atol + rtol * abs(e)) {
            violations += 1
            if first.count < 5 { first.append((i, a, e)) }
        }
    }
    return Comparison(name: name, count: actual.count, maxAbsDiff: maxDiff, worstIndex: worst,
                      worstActual: actual.isEmpty ? 0 : actual[worst], worstExpected: expected.isEmpty ? 0 : expected[worst],
                      relativeToMax: maxE > 0 ? maxDiff / maxE : maxDiff, violations: violations, firstViolations: first)
}

public func compare(_ name: String, _ actual: [Float], _ expected: [Float], atol: Double, rtol: Double) -> Comparison {
    compare(name, actual.map(Double.init), expected.map(Double.init), atol: atol, rtol: rtol)
}

/// Records a test issue (with the comparison's description) unless all values are within tolerance.
public func expectClose(_ name: String, _ actual: [Double], _ expected: [Double], atol: Double = 0, rtol: Double = 1e-5,
                        sourceLocation: SourceLocation = #_sourceLocation) {
    let c = compare(name, actual, expected, atol: atol, rtol: rtol)
    #expect(c.passed, "\(c)", sourceLocation: sourceLocation)
}

public func expectClose(_ name: String, _ actual: [Float], _ expected: [Float], atol: Double = 0, rtol: Double = 1e-5,
                        sourceLocation: SourceLocation = #_sourceLocation) {
    expectClose(name, actual.map(Double.init), expected.map(Double.init), atol: atol, rtol: rtol, sourceLocation: sourceLocation)
}

public func expectClose(_ name: String, _ actual: Tensor, _ expected: Tensor, atol: Double = 0, rtol: Double = 1e-5,
                        sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.shape == expected.shape, "\(name): shape \(actual.shape) vs \(expected.shape)", sourceLocation: sourceLocation)
    expectClose(name, actual.toArray(), expected.toArray(), atol: atol, rtol: rtol, sourceLocation: sourceLocation)
}

/// max |a − e| / max |e| (the acceptance metric "relative error" for logits).
public func relativeMaxError(_ actual: [Double], _ expected: [Double]) -> Double {
    compare("", actual, expected, atol: .infinity, rtol: 0).relativeToMax
}
