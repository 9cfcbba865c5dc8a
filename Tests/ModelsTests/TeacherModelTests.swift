import Models
import TensorCore
import TestSupport
import Testing

/// A small random teacher (deterministic weights) for structural tests that need no checkpoint.
func randomTeacher(family: TransformerConfig.Family = .mistral, window: Int? = nil, tied: Bool = false, layers: Int = 2,
                   seed: UInt64 = 1) -> TeacherModel {
    let c = TransformerConfig(family: family, vocabSize: 37, hiddenSize: 24, intermediateSize: 40, numLayers: layers, numHeads: 6,
                              numKVHeads: 2, headDim: 4, rmsNormEps: 1e-5, ropeTheta: 500, slidingWindow: window,
                              tieWordEmbeddings: tied)
    var rng = SeededRNG(seed: seed)
    func rand(_ shape: [Int], _ std: Float) -> Tensor { let t = Tensor(zeros: shape); t.fillNormal(std: std, rng: &rng); return t }
    let layers = (0..<c.numLayers).map { _ in
        TeacherLayerWeights(inputNorm: rand([24], 0.1).addingScalar(1), qkv: rand([(6 + 4) * 4, 24], 0.3), o: rand([24, 24], 0.2),
                            postAttentionNorm: rand([24], 0.1).addingScalar(1), gateUp: rand([80, 24], 0.3), down: rand([24, 40], 0.2))
    }
    let embed = rand([37, 24], 1)
    return TeacherModel(config: c, weights: TeacherWeights(embedTokens: embed, layers: layers, finalNorm: rand([24], 0.1).addingScalar(1),
                                                           lmHead: tied ? embed : rand([37, 24], 0.3)))
}

extension Tensor {
    func addingScalar(_ s: Float) -> Tensor {
        for i in 0..<count { pointer[i] += s }
        return self
    }
}

@Suite struct TeacherModelTests {
    private let tokens = [3, 14, 15, 9, 26, 5, 35, 8, 9, 7, 9, 3, 2, 3, 8, 4, 6, 26, 4, 33, 8, 32, 7, 9, 5]

    @Test(arguments: [nil, 4] as [Int?])
    func decodingWithTheKVCacheEqualsOneForward(_ window: Int?) {
        let m = randomTeacher(window: window)
        let full = m.logits(m.forward(tokens: tokens, batch: 1)).toArray()
        let cache = TeacherKVCache(config: m.config, batch: 1, capacity: 64)
        var stepped: [Float] = []
        // prefill 10, then one token at a time, then a chunk of 5
        stepped += m.logits(m.forward(tokens: Array(tokens[0..<10]), batch: 1, cache: cache)).toArray()
        for t in 10..<20 { stepped += m.logits(m.forward(tokens: [tokens[t]], batch: 1, cache: cache)).toArray() }
        stepped += m.logits(m.forward(tokens: Array(tokens[20...]), batch: 1, cache: cache)).toArray()
        #expect(cache.length == tokens.count)
        expectClose("cached decode (window \(String(describing: window)))", stepped, full, atol: 1e-5, rtol: 1e-4)
    }

    @Test func aBatchEqualsSeparateSequences() {
        let m = randomTeacher(tied: true)
        let a = Array(tokens[0..<12]), b = Array(tokens[13..<25])
        let batched = m.logits(m.forward(tokens: a + b, batch: 2)).toArray()
        let sep = m.logits(m.forward(tokens: a, batch: 1)).toArray() + m.logits(m.forward(tokens: b, batch: 1)).toArray()
        expectClose("batch of 2", batched, sep, atol: 1e-5, rtol: 1e-5)
    }

    @Test func slidingWindowOnlyMattersBeyondTheWindow() {
        let full = randomTeacher(window: nil), windowed = randomTeacher(window: 8)
        let lf = full.logits(full.forward(tokens: tokens, batch: 1)), lw = windowed.logits(windowed.forward(tokens: tokens, batch: 1))
        let v = full.config.vocabSize
        // Positions 0..<8 see at most 8 keys either way.
        expectClose("inside the window", Array(lw.toArray()[0..<(8 * v)]), Array(lf.toArray()[0..<(8 * v)]), atol: 1e-6, rtol: 1e-6)
        let tail = zip(lw.toArray()[(8 * v)...], lf.toArray()[(8 * v)...]).map { abs($0 - $1) }.max()!
        #expect(tail > 1e-3, "the window must change later positions")
    }

    /// The window's exact extent, against an independent computation: in a one-layer model, position p with
    /// window W sees exactly tokens p−W+1 … p, so its logits equal those of the last position of a
    /// window-free run on just those W tokens (RoPE scores depend only on relative positions). A window one
    /// token wider or narrower would see another token.
    @Test(arguments: [4, 7])
    func slidingWindowSeesItselfAndTheWMinusOneBefore(_ w: Int) {
        let windowed = randomTeacher(window: w, layers: 1), free = randomTeacher(window: nil, layers: 1)
        let v = windowed.config.vocabSize
        let all = windowed.logits(windowed.forward(tokens: tokens, batch: 1)).toArray()
        for p in [w - 1, w, w + 3, tokens.count - 1] {
            let last = free.logits(free.forward(tokens: Array(tokens[(p - w + 1)...p]), batch: 1)).toArray().suffix(v)
            expectClose("position \(p), window \(w)", Array(all[(p * v)..<((p + 1) * v)]), Array(last), atol: 2e-5, rtol: 1e-4)
            if p >= w {
                // One more token of history (window W + 1) gives other logits.
                let wider = free.logits(free.forward(tokens: Array(tokens[(p - w)...p]), batch: 1)).toArray().suffix(v)
                #expect(zip(wider, last).map { abs($0 - $1) }.max()! > 1e-3)
            }
        }
    }

    @Test func capturedActivationsHaveOneTensorPerLayer() {
        let m = randomTeacher()
        var acts = TeacherActivations()
        let h1 = m.forward(tokens: tokens, batch: 1, capture: [.layerInputs, .attentionInputs, .attentionOutputs, .attentionProjections],
                           activations: &acts)
        #expect(acts.attentionOutputs.count == 2 && acts.attentionOutputs[0].shape == [25, 24])
        #expect(acts.attentionInputs.count == 2 && acts.layerInputs.count == 2 && acts.attentionProjections.count == 2)
        // Capturing does not change the result.
        let h2 = m.forward(tokens: tokens, batch: 1)
        expectClose("capture is transparent", h1, h2, atol: 1e-6, rtol: 1e-6)
    }

    @Test func windowNLLScoresOnlyTargets() {
        let m = randomTeacher()
        let nll = m.windowNLL(tokens, firstTarget: 5)
        #expect(nll.count == tokens.count - 5)
        let logits = m.logits(m.forward(tokens: tokens, batch: 1))
        let all = negativeLogLikelihoodRef(logits, tokens)
        expectClose("windowNLL", nll, Array(all[4...]), atol: 1e-6, rtol: 1e-5)
    }

    private func negativeLogLikelihoodRef(_ logits: Tensor, _ tokens: [Int]) -> [Double] {
        let v = logits.lastDim
        return (0..<(tokens.count - 1)).map { r in
            let row = (0..<v).map { Double(logits.pointer[r * v + $0]) }
            let m = row.max()!
            return m + log(row.map { exp($0 - m) }.reduce(0, +)) - row[tokens[r + 1]]
        }
    }
}

import Glibc
