import TensorCore
import TestSupport
import Testing
import Training

@Suite struct OptimizerTests {
    @Test func adamWMatchesTorch() throws {
        let g = try JSONParser.parse(try readFile(Fixtures.fixture("training/adamw.json")))
        func floats(_ v: JSONValue?) -> [Float] { v!.arrayValue!.map { Float($0.doubleValue!) } }
        let params = ParameterBuffer([("w", [3, 4], true), ("frozen", [2], false), ("b", [4], true)])
        params.value("w").assign(Tensor(shape: [12], values: floats(g["w0"])))
        params.value("b").assign(Tensor(shape: [4], values: floats(g["b0"])))
        params.value("frozen").fill(7)
        var cfg = AdamWConfig()
        cfg.beta1 = 0.9
        cfg.beta2 = 0.95
        cfg.eps = 1e-8
        cfg.weightDecay = 0.1
        let opt = AdamW(params: params, config: cfg)
        #expect(params.trainableCount == 16)
        for (i, step) in g["steps"]!.arrayValue!.enumerated() {
            let gr = g["grads"]!.arrayValue![i]
            params.grad("w")!.assign(Tensor(shape: [12], values: floats(gr["w"])))
            params.grad("b")!.assign(Tensor(shape: [4], values: floats(gr["b"])))
            opt.update(lr: g["lrs"]!.arrayValue![i].doubleValue!)
            expectClose("w after step \(i + 1)", params.value("w").toArray(), floats(step["w"]), atol: 1e-7, rtol: 1e-6)
            expectClose("b after step \(i + 1)", params.value("b").toArray(), floats(step["b"]), atol: 1e-7, rtol: 1e-6)
        }
        #expect(params.value("frozen").toArray() == [7, 7])
        #expect(params.grad("frozen") == nil)
    }

    @Test func scheduleWarmsUpThenDecaysToTheFloor() {
        let s = LearningRateSchedule(peak: 1e-3, warmupSteps: 10, totalSteps: 110, minRatio: 0.1)
        #expect(abs(s.rate(at: 0) - 1e-4) < 1e-12)
        #expect(abs(s.rate(at: 9) - 1e-3) < 1e-12)
        #expect(abs(s.rate(at: 10) - 1e-3) < 1e-12)
        #expect(abs(s.rate(at: 60) - 5.5e-4) < 1e-12)
        #expect(abs(s.rate(at: 110) - 1e-4) < 1e-12)
        #expect(abs(s.rate(at: 500) - 1e-4) < 1e-12)
        #expect((10..<110).allSatisfy { s.rate(at: $0) >= s.rate(at: $0 + 1) })
    }

    @Test func clippingScalesToTheMaxNorm() {
        let p = ParameterBuffer([("a", [2], true), ("b", [2], true)])
        p.grad("a")!.assign(Tensor(shape: [2], values: [3, 0]))
        p.grad("b")!.assign(Tensor(shape: [2], values: [0, 4]))
        let n = clipGradientNorm(p, maxNorm: 1)
        #expect(abs(n - 5) < 1e-12)
        #expect(abs(p.gradNorm() - 1) < 1e-5)
        #expect(clipGradientNorm(p, maxNorm: 10) < 10)
        #expect(abs(p.gradNorm() - 1) < 1e-5)
    }
}
