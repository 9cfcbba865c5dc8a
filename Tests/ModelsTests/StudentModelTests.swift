import Models
import Ops
import TensorCore
import TestSupport
import Testing

/// A small random student (all tensors trainable) with a hybrid softmax layer.
func randomStudent(hybrid: [Int] = [1], layers: Int = 3, tied: Bool = false, slots: Int = 3, seed: UInt64 = 7,
                   trainable: Bool = true) -> StudentModel {
    var c = GSAConfig(vocabSize: 23, hiddenSize: 16, intermediateSize: 20, numLayers: layers, numHeads: 4, numKVHeads: 2)
    c.numSlots = slots
    c.normEps = 1e-5
    c.tieWordEmbeddings = tied
    if !hybrid.isEmpty { c.hybrid = GSAConfig.HybridAttention(layers: hybrid, numHeads: 4, numKVHeads: 2, windowSize: 9, ropeTheta: 100) }
    let m = StudentModel(config: c) { _ in trainable }
    var rng = SeededRNG(seed: seed)
    for t in StudentTensor.all(for: c) {
        let v = m.value(t)
        switch t.kind {
        case .attnNorm, .mlpNorm, .finalNorm, .gNorm: v.fillNormal(mean: 1, std: 0.1, rng: &rng)
        case .fProj: v.fillNormal(std: 0.5, rng: &rng)
        default: v.fillNormal(std: 0.4, rng: &rng)
        }
    }
    return m
}

@Suite struct StudentModelTests {
    private let tokens = (0..<140).map { ($0 * 7 + $0 / 3) % 23 }

    @Test func recurrentDecodingEqualsTheChunkedForward() {
        let m = randomStudent()
        let full = m.logits(m.forward(tokens: tokens, batch: 1)).toArray()
        let state = StudentState(config: m.config, batch: 1, capacity: 256)
        var stepped: [Float] = []
        stepped += m.logits(m.forward(tokens: Array(tokens[0..<70]), batch: 1, state: state)).toArray()  // chunked with state
        for t in tokens[70..<80] { stepped += m.logits(m.forward(tokens: [t], batch: 1, state: state)).toArray() }
        stepped += m.logits(m.forward(tokens: Array(tokens[80...]), batch: 1, state: state)).toArray()
        #expect(state.position == 140)
        expectClose("state-carried decode", stepped, full, atol: 2e-5, rtol: 1e-4)
        // The GSA state has a fixed size; the softmax layer's cache grows with the position.
        #expect(state.recurrentBytes == 2 * 2 * 3 * (4 + 4) * 4)
        #expect(state.cacheBytesInUse == 2 * 1 * 140 * 8 * 4)
    }

    @Test func trainingForwardEqualsInferenceForward() {
        let m = randomStudent(tied: true)
        let a = StudentTrainingActivations(model: m, batch: 2, length: 70)
        let h = m.forwardTraining(tokens: tokens, a)
        let ref = m.forward(tokens: tokens, batch: 2)
        expectClose("training forward", h, ref, atol: 1e-6, rtol: 1e-5)
    }

    struct Shape: Sendable, CustomTestStringConvertible {
        var hybrid: [Int], layers: Int, tied: Bool
        var testDescription: String { "\(layers) layers, hybrid \(hybrid), \(tied ? "tied" : "untied") head" }
    }

    @Test(arguments: [Shape(hybrid: [1], layers: 3, tied: false), Shape(hybrid: [], layers: 3, tied: false),
                      Shape(hybrid: [], layers: 2, tied: true), Shape(hybrid: [0], layers: 2, tied: true)])
    func wholeStudentGradientCheck(_ shape: Shape) {
        // Loss = Σ r ⊙ logits over B = 2 sequences of T = 70 (two GSA chunks), every tensor trainable; with a
        // tied head the embedding's gradient has both its input and its output part.
        let m = randomStudent(hybrid: shape.hybrid, layers: shape.layers, tied: shape.tied)
        let (b, t) = (2, 70)
        var rng = SeededRNG(seed: 11)
        let r = (0..<(b * t * 23)).map { _ in rng.nextNormal() }
        let a = StudentTrainingActivations(model: m, batch: b, length: t)
        let hidden = m.forwardTraining(tokens: tokens, a)
        let logits = Tensor(zeros: [b * t, 23])
        m.headForward(logits, hidden: hidden)
        m.params.zeroGrads()
        let dLogits = Tensor(shape: logits.shape, values: r.map(Float.init))
        let dHidden = Tensor(zeros: hidden.shape)
        m.headBackward(dHidden: dHidden, dLogits: dLogits, hidden: hidden)
        m.backward(a, dHidden: dHidden)
        let inputs = m.params.entries.map { e in
            GradCheckInput(e.name, values: m.params.value(e.name).toArray().map(Double.init),
                           analytic: m.params.grad(e.name)!.toArray().map(Double.init))
        }
        // The forward runs in Float32 through 3 layers and the loss sums 3220 logits (|L| ≈ 10²), so central
        // differences with ε = 1e−2 carry ≈ 1e−7·|L|·√N / ε ≈ 5e−3 of rounding noise: atol 1e−2, rtol 2e−2. At
        // that ε the softmax layer's curvature leaves an O(ε²) truncation error of up to 2% in q/k (measured:
        // D(ε) = −8.97, −9.57, −9.72, −9.76 for ε = 2e−2 … 2.5e−3 against the analytic −9.77), which Richardson
        // extrapolation over ε and ε/2 removes.
        gradCheck(inputs, tolerance: GradCheckTolerance(eps: 1e-2, atol: 1e-2, rtol: 2e-2, richardson: true), maxElementsPerInput: 8) { values in
            for (e, v) in zip(m.params.entries, values) { m.params.value(e.name).assign(Tensor(shape: e.shape, values: v.map(Float.init))) }
            let l = m.logits(m.forward(tokens: tokens, batch: b)).toArray()
            return zip(l, r).reduce(0) { $0 + Double($1.0) * $1.1 }
        }
    }

    @Test func frozenTensorsGetNoGradientMemory() {
        let m = randomStudent(trainable: false)
        #expect(m.params.trainableCount == 0)
        let partial = StudentModel(config: m.config) { t in t.kind == .fProj || t.kind == .gNorm }
        #expect(partial.params.trainableCount == 2 * (2 * 3 * 16 + 16))
        #expect(partial.grad(.qProj(0)) == nil && partial.grad(.fProj(0)) != nil)
    }
}
