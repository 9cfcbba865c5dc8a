// Generation: incremental decoders (teacher KV cache, student recurrent state, hybrid student) against
// full forward passes over the growing sequence, the sampler's distribution and nucleus, seeds, stop
// tokens. Models are the small synthetic checkpoints of TestSupport converted with GSAConverter; the
// SmolLM2 GGUF case is skipped when the file is absent.
import CheckpointIO
import Glibc
import Conversion
import Models
import TensorCore
import TestSupport
import Testing

@Suite struct GenerationTests {
    /// A synthetic teacher and the students converted from it (pure GSA and hybrid with layer 1 softmax).
    static let models: (teacher: TeacherModel, student: StudentModel, hybrid: StudentModel)? = {
        let dir = Fixtures.temporaryDirectory("t2r-generation")
        do {
            try SyntheticCheckpoint.write(to: "\(dir)/teacher", vocab: 29, hidden: 16, intermediate: 24, layers: 2, heads: 4, kvHeads: 2, seed: 5)
            let teacher = try TeacherCheckpoint.open("\(dir)/teacher")
            var o = ConversionOptions()
            o.numSlots = 4
            o.dtype = .f32
            try GSAConverter.convert(teacher: teacher, to: "\(dir)/student", options: o)
            o.keepSoftmaxLayers = [1]
            try GSAConverter.convert(teacher: teacher, to: "\(dir)/hybrid", options: o)
            return (try teacher.loadModel(), try StudentCheckpoint.open("\(dir)/student").loadModel(),
                    try StudentCheckpoint.open("\(dir)/hybrid").loadModel())
        } catch {
            Issue.record("cannot build the synthetic models: \(error)")
            return nil
        }
    }()

    static let prompt = [3, 17, 8, 25, 1, 12]

    static func allModels() throws -> [(String, GenerativeLanguageModel)] {
        let m = try #require(models)
        return [("teacher", m.teacher), ("student", m.student), ("hybrid student", m.hybrid)]
    }

    static func lastRow(_ logits: Tensor) -> [Float] { Array(logits.toArray().suffix(logits.shape[1])) }

    /// Each fed token's logits equal the last row of a full forward pass over the sequence so far.
    @Test func incrementalLogitsMatchFullForward() throws {
        for (name, model) in try Self.allModels() {
            let continuation = [4, 4, 19, 0, 28, 7, 2]
            let decoder = model.makeDecoder(capacity: Self.prompt.count + continuation.count)
            var seq = Self.prompt
            var got = decoder.feed(seq)
            for t in continuation + [nil] {
                let full = Self.lastRow(model.sequenceLogits(seq))
                let c = compare("\(name) logits at position \(seq.count)", got.map(Double.init), full.map(Double.init), atol: .infinity, rtol: 0)
                #expect(c.relativeToMax <= 1e-5, "\(c)")
                guard let t else { break }
                seq.append(t)
                got = decoder.feed([t])
            }
            #expect(decoder.position == seq.count)
        }
    }

    /// Greedy generation picks, at every step, the argmax of a full forward over the growing sequence.
    @Test func greedyEqualsArgmaxOfFullForward() throws {
        for (name, model) in try Self.allModels() {
            let r = generate(model: model, prompt: Self.prompt, options: GenerationOptions(maxNewTokens: 12)) { _ in true }
            #expect(r.tokens.count == 12 && r.stopReason == .maxTokens, "\(name): \(r)")
            #expect(r.positions == Self.prompt.count + 11, "\(name): the last token is not fed")
            var seq = Self.prompt
            for t in r.tokens {
                let row = Self.lastRow(model.sequenceLogits(seq))
                let best = TokenSampler.argmax(row)
                // Equal, or a tie within float rounding of the two computation orders.
                #expect(t == best || row[best] - row[t] < 1e-5, "\(name): step \(seq.count - Self.prompt.count) chose \(t), full forward argmax \(best)")
                seq.append(t)
            }
        }
    }

    @Test func samplingIsReproducibleForASeed() throws {
        for (name, model) in try Self.allModels() {
            func run(_ seed: UInt64) -> [Int] {
                let o = GenerationOptions(maxNewTokens: 24, sampling: SamplingOptions(temperature: 1.3, topP: 0.9, seed: seed))
                return generate(model: model, prompt: Self.prompt, options: o) { _ in true }.tokens
            }
            let a = run(7), b = run(7), c = run(8)
            #expect(a == b, "\(name): same seed, different tokens")
            #expect(a != c, "\(name): seeds 7 and 8 gave the same 24 tokens")
        }
    }

    @Test func tinyTopPEqualsGreedy() throws {
        for (name, model) in try Self.allModels() {
            let greedy = generate(model: model, prompt: Self.prompt, options: GenerationOptions(maxNewTokens: 10)) { _ in true }.tokens
            let nucleus = generate(model: model, prompt: Self.prompt,
                                   options: GenerationOptions(maxNewTokens: 10, sampling: SamplingOptions(temperature: 1, topP: 1e-9, seed: 3))) { _ in true }.tokens
            #expect(greedy == nucleus, "\(name)")
        }
    }

    @Test func stopTokenEndsGenerationAndCallbackCancels() throws {
        let model = try #require(Self.models).student
        let greedy = generate(model: model, prompt: Self.prompt, options: GenerationOptions(maxNewTokens: 12)) { _ in true }.tokens
        // The first token that did not occur before it becomes the stop token.
        let k = try #require((1..<greedy.count).first { !greedy[..<$0].contains(greedy[$0]) })
        var seen: [Int] = []
        let r = generate(model: model, prompt: Self.prompt, options: GenerationOptions(maxNewTokens: 12, stopTokens: [greedy[k]])) {
            seen.append($0)
            return true
        }
        #expect(r.tokens == Array(greedy[..<k]) && seen == r.tokens)
        #expect(r.stopReason == .stopToken(greedy[k]))
        let stopped = generate(model: model, prompt: Self.prompt, options: GenerationOptions(maxNewTokens: 12)) { _ in seen.count < 0 }
        #expect(stopped.tokens == [greedy[0]] && stopped.stopReason == .cancelled)
        let none = generate(model: model, prompt: Self.prompt, options: GenerationOptions(maxNewTokens: 0)) { _ in true }
        #expect(none.tokens.isEmpty && none.positions == 0)
    }

    /// State sizes: the teacher's cache grows with the positions, the GSA state does not.
    @Test func stateBytes() throws {
        let m = try #require(Self.models)
        let short = generate(model: m.teacher, prompt: Self.prompt, options: GenerationOptions(maxNewTokens: 2)) { _ in true }
        let long = generate(model: m.teacher, prompt: Self.prompt, options: GenerationOptions(maxNewTokens: 9)) { _ in true }
        #expect(short.stateBytes == TeacherKVCache.bytes(config: m.teacher.config, batch: 1, length: short.positions))
        #expect(long.stateBytes > short.stateBytes)
        let s1 = generate(model: m.student, prompt: Self.prompt, options: GenerationOptions(maxNewTokens: 2)) { _ in true }
        let s2 = generate(model: m.student, prompt: Self.prompt, options: GenerationOptions(maxNewTokens: 9)) { _ in true }
        let c = m.student.config
        #expect(s1.stateBytes == s2.stateBytes)
        #expect(s1.stateBytes == c.numLayers * c.numKVHeads * c.numSlots * (c.headKDim + c.headVDim) * 4)
    }

    // MARK: Sampler

    @Test func samplerFollowsTheTemperatureSoftmax() {
        let logits: [Float] = [2, 1, 0, -1, 0.5]
        for temperature in [1.0, 0.5, 2.0] {
            var s = TokenSampler(SamplingOptions(temperature: temperature, topP: 1, seed: 11))
            let n = 40_000
            var counts = [Int](repeating: 0, count: logits.count)
            for _ in 0..<n { counts[s.sample(logits)] += 1 }
            let e = logits.map { exp(Double($0) / temperature) }, z = e.reduce(0, +)
            for i in logits.indices {
                let p = e[i] / z, f = Double(counts[i]) / Double(n)
                // 5 standard errors of a binomial frequency.
                #expect(abs(f - p) <= 5 * (p * (1 - p) / Double(n)).squareRoot() + 1e-9, "T=\(temperature) token \(i): \(f) vs \(p)")
            }
        }
    }

    @Test func nucleusKeepsTheSmallestSetReachingTopP() {
        // Probabilities 0.5, 0.3, 0.15, 0.05 (ids 2, 0, 3, 1).
        let logits = [0.3, 0.05, 0.5, 0.15].map { Float(log($0)) }
        var s = TokenSampler(SamplingOptions(temperature: 1, topP: 0.75, seed: 1))
        let n = 20_000
        var counts = [Int](repeating: 0, count: 4)
        for _ in 0..<n { counts[s.sample(logits)] += 1 }
        #expect(counts[1] == 0 && counts[3] == 0, "\(counts)")
        let f = Double(counts[2]) / Double(n)
        #expect(abs(f - 0.5 / 0.8) < 0.02, "renormalised over the nucleus: \(f)")
        var t = TokenSampler(SamplingOptions(temperature: 1, topP: 0.85, seed: 1))
        var seen = Set<Int>()
        for _ in 0..<5_000 { seen.insert(t.sample(logits)) }
        #expect(seen == [0, 2, 3])
    }

    @Test func argmaxTiesAndNaN() {
        #expect(TokenSampler.argmax([1, 3, 3, 2]) == 1)
        #expect(TokenSampler.argmax([.nan, -1, -2]) == 1)
        #expect(TokenSampler.argmax([-.infinity, -.infinity]) == 0)
        var greedy = TokenSampler(SamplingOptions(temperature: 0, topP: 0.5, seed: 9))
        #expect(greedy.sample([0, 5, 1]) == 1)
    }

    // MARK: SmolLM2

    @Test(.enabled(if: Fixtures.smollm2Available, Comment(rawValue: Fixtures.smollm2MissingReason)))
    func smolLM2GreedyEqualsFullForward() throws {
        let model = try TeacherCheckpoint.open(Fixtures.smollm2GGUF).loadModel()
        // "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n" in SmolLM2's ids.
        let prompt = [1, 4093, 198, 1780, 314, 260, 3575, 282, 4649, 47, 2, 198, 1, 520, 9531, 198]
        let r = generate(model: model, prompt: prompt, options: GenerationOptions(maxNewTokens: 8)) { _ in true }
        var seq = prompt
        for t in r.tokens {
            let row = Self.lastRow(model.sequenceLogits(seq))
            let best = TokenSampler.argmax(row)
            #expect(t == best || row[best] - row[t] < 1e-4, "step \(seq.count - prompt.count): \(t) vs \(best)")
            seq.append(t)
        }
        #expect(r.tokens.count == 8 || r.stopReason == .stopToken(2))
    }
}
