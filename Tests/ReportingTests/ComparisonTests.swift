import Conversion
import Glibc
import Models
import Reporting
import TensorCore
import TestSupport
import Testing
import Training

/// A synthetic teacher and a student converted from it (untrained, so it differs from the teacher).
func makePair(hybrid: [Int] = [], vocab: Int = 41, seed: UInt64 = 7) throws -> (teacher: TeacherModel, student: StudentModel, dir: String) {
    let dir = Fixtures.temporaryDirectory("t2r-report")
    try SyntheticCheckpoint.write(to: "\(dir)/teacher", vocab: vocab, hidden: 16, intermediate: 24, layers: 2, heads: 4, kvHeads: 2, seed: seed)
    let ckpt = try TeacherCheckpoint.open("\(dir)/teacher")
    var o = ConversionOptions()
    o.numSlots = 4
    o.keepSoftmaxLayers = hybrid
    o.dtype = .f32
    try GSAConverter.convert(teacher: ckpt, to: "\(dir)/student", options: o)
    return (try ckpt.loadModel(), try StudentCheckpoint.open("\(dir)/student").loadModel(), dir)
}

func tokens(_ n: Int, vocab: Int, seed: UInt64) -> [Int] {
    var rng = SeededRNG(seed: seed)
    return (0..<n).map { _ in rng.nextInt(below: vocab) }
}

/// Float64 reference of one row: KL(softmax(t) ‖ softmax(s)) and the argmax of each.
func referenceRow(_ t: [Float], _ s: [Float]) -> (kl: Double, argmaxT: Int, argmaxS: Int) {
    func logSoftmax(_ x: [Float]) -> [Double] {
        let m = Double(x.max()!)
        let lse = m + log(x.reduce(0.0) { $0 + exp(Double($1) - m) })
        return x.map { Double($0) - lse }
    }
    let lt = logSoftmax(t), ls = logSoftmax(s)
    let kl = zip(lt, ls).reduce(0.0) { $0 + exp($1.0) * ($1.0 - $1.1) }
    return (kl, t.indices.max { t[$0] < t[$1] || (t[$0] == t[$1] && $0 > $1) }!, s.indices.max { s[$0] < s[$1] || (s[$0] == s[$1] && $0 > $1) }!)
}

@Suite struct ComparisonTests {
    @Test func aModelComparedWithItselfHasNoDivergence() throws {
        let (teacher, _, _) = try makePair()
        let ids = tokens(300, vocab: 41, seed: 1)
        let plan = PerplexityPlan(tokenCount: ids.count, context: 64, stride: 64)
        let s = try ModelComparison.score(teacher: teacher, student: teacher, tokens: ids, plan: plan)
        let sum = s.summary()
        #expect(sum.tokens == plan.tokensScored)
        #expect(s.kl.allSatisfy { abs($0) < 1e-5 }, "max KL \(s.kl.max()!)")
        #expect(sum.top1Agreement == 1)
        #expect(sum.ratio == 1 && sum.ratioStandardError == 0)
        #expect(sum.teacher == sum.student)
    }

    @Test(arguments: [[], [1]])
    func scoresMatchPerplexityEvaluationAndAFloat64Reference(hybrid: [Int]) throws {
        let (teacher, student, _) = try makePair(hybrid: hybrid)
        let ids = tokens(250, vocab: 41, seed: 2)
        let plan = PerplexityPlan(tokenCount: ids.count, context: 80, stride: 48)
        let s = try ModelComparison.score(teacher: teacher, student: student, tokens: ids, plan: plan, rowsPerBlock: 7)
        // NLLs: the same as `t2r perplexity` computes for each model alone (up to sgemm rounding: blocks of rows differ).
        let pt = evaluatePerplexity(model: teacher, tokens: ids, plan: plan), ps = evaluatePerplexity(model: student, tokens: ids, plan: plan)
        #expect(s.count == pt.tokensScored && s.positions == pt.positions)
        #expect(zip(s.teacher.nll, pt.nll).allSatisfy { abs($0 - $1) < 1e-4 })
        #expect(zip(s.student.nll, ps.nll).allSatisfy { abs($0 - $1) < 1e-4 })
        let sum = s.summary()
        #expect(abs(sum.teacher.perplexity - pt.perplexity) < 1e-5 * pt.perplexity)
        #expect(abs(sum.ratio - ps.perplexity / pt.perplexity) < 1e-5 * sum.ratio)
        #expect(s.kl.allSatisfy { $0 >= 0 } && sum.meanKL > 1e-3, "an untrained student differs from its teacher: KL \(sum.meanKL)")
        // KL and agreement of the first window against float64 on full logits.
        let w = plan.windows[0]
        let window = Array(ids[w.begin..<w.end])
        let lt = teacher.logits(teacher.hiddenStates(window)), ls = student.logits(student.hiddenStates(window))
        var agreeing = 0
        for r in 0..<(window.count - 1) {
            let ref = referenceRow(lt[r].toArray(), ls[r].toArray())
            #expect(abs(s.kl[r] - ref.kl) <= 1e-4 * max(1, ref.kl), "row \(r): \(s.kl[r]) vs \(ref.kl)")
            #expect(s.agree[r] == (ref.argmaxT == ref.argmaxS), "row \(r)")
            if ref.argmaxT == ref.argmaxS { agreeing += 1 }
        }
        #expect(agreeing < window.count - 1, "an untrained student should disagree somewhere")
    }

    @Test func blockSizeDoesNotChangeTheScores() throws {
        let (teacher, student, _) = try makePair()
        let ids = tokens(200, vocab: 41, seed: 3)
        let plan = PerplexityPlan(tokenCount: ids.count, context: 64, stride: 64)
        let a = try ModelComparison.score(teacher: teacher, student: student, tokens: ids, plan: plan, rowsPerBlock: 1)
        let b = try ModelComparison.score(teacher: teacher, student: student, tokens: ids, plan: plan, rowsPerBlock: 500)
        // The LM head's sgemm may round differently for other row counts; the scores agree to float precision.
        func close(_ x: [Double], _ y: [Double]) -> Bool { x.count == y.count && zip(x, y).allSatisfy { abs($0 - $1) < 1e-4 } }
        #expect(close(a.teacher.nll, b.teacher.nll) && close(a.student.nll, b.student.nll) && close(a.kl, b.kl))
        #expect(a.positions == b.positions)
    }

    @Test func positionBucketsPartitionTheTokens() throws {
        let (teacher, student, _) = try makePair()
        let ids = tokens(700, vocab: 41, seed: 4)
        let plan = PerplexityPlan(tokenCount: ids.count, context: 200, stride: 200)
        let s = try ModelComparison.score(teacher: teacher, student: student, tokens: ids, plan: plan)
        let buckets = PositionBuckets(context: 200)
        #expect(buckets.buckets.map(\.range) == [1..<64, 64..<128, 128..<200])
        #expect(buckets.buckets.map(\.label) == ["1–63", "64–127", "128–199"])
        let parts = s.summaries(by: buckets)
        let all = s.summary()
        #expect(parts.reduce(0) { $0 + $1.summary.tokens } == all.tokens)
        // Token-weighted means of the buckets are the overall means.
        func weighted(_ f: (ScoreSummary) -> Double) -> Double {
            parts.reduce(0.0) { $0 + f($1.summary) * Double($1.summary.tokens) } / Double(all.tokens)
        }
        #expect(abs(weighted { $0.teacher.meanNLL } - all.teacher.meanNLL) < 1e-9)
        #expect(abs(weighted { $0.student.meanNLL } - all.student.meanNLL) < 1e-9)
        #expect(abs(weighted { $0.meanKL } - all.meanKL) < 1e-9)
        #expect(abs(weighted { $0.top1Agreement } - all.top1Agreement) < 1e-12)
        #expect(PositionBuckets(context: 40).buckets.map(\.range) == [1..<40])
        #expect(PositionBuckets(context: 512).buckets.map(\.range) == [1..<64, 64..<128, 128..<256, 256..<512])
    }

    @Test func poolingTextsKeepsEveryToken() throws {
        let (teacher, student, _) = try makePair()
        let a = tokens(150, vocab: 41, seed: 5), b = tokens(90, vocab: 41, seed: 6)
        let plan = { (n: Int) in PerplexityPlan(tokenCount: n, context: 64, stride: 64) }
        let sa = try ModelComparison.score(teacher: teacher, student: student, tokens: a, plan: plan(a.count))
        let sb = try ModelComparison.score(teacher: teacher, student: student, tokens: b, plan: plan(b.count))
        var pooled = sa
        pooled.append(sb)
        #expect(pooled.count == sa.count + sb.count)
        #expect(pooled.student.nll == sa.student.nll + sb.student.nll && pooled.positions == sa.positions + sb.positions)
        let p = pooled.summary(), x = sa.summary(), y = sb.summary()
        let n = Double(p.tokens)
        #expect(abs(p.meanKL - (x.meanKL * Double(x.tokens) + y.meanKL * Double(y.tokens)) / n) < 1e-12)
    }

    @Test func mismatchedVocabulariesAreRejected() throws {
        let (teacher, _, _) = try makePair(vocab: 41)
        let (_, student, _) = try makePair(vocab: 43)
        let plan = PerplexityPlan(tokenCount: 20, context: 10, stride: 10)
        #expect(throws: ComparisonError.self) {
            try ModelComparison.score(teacher: teacher, student: student, tokens: tokens(20, vocab: 41, seed: 1), plan: plan)
        }
        do {
            _ = try ModelComparison.score(teacher: teacher, student: student, tokens: tokens(20, vocab: 41, seed: 1), plan: plan)
        } catch let e as ComparisonError {
            #expect(e.category == .badInput && e.description.contains("41") && e.description.contains("43"))
        }
        let outside = [1, 2, 41, 3]
        #expect(throws: ComparisonError.self) {
            try ModelComparison.score(teacher: teacher, student: teacher, tokens: outside, plan: PerplexityPlan(tokenCount: 4, context: 4, stride: 4))
        }
    }

    @Test func meanEstimateMatchesTheTextbookFormulas() {
        var m = MeanEstimate()
        for x in [2.0, 4, 4, 4, 5, 5, 7, 9] { m.add(x) }
        #expect(m.mean == 5)
        // Sample variance 32/7; SE = sqrt(32/7/8).
        #expect(abs(m.standardError - (32.0 / 7 / 8).squareRoot()) < 1e-12)
        #expect(MeanEstimate().mean.isNaN)
    }
}

@Suite struct DecodeBenchmarkTests {
    @Test(arguments: [[], [0]])
    func stateSizesMatchTheConfigurationsAndContextsAreMet(hybrid: [Int]) throws {
        let (teacher, student, _) = try makePair(hybrid: hybrid)
        let ids = tokens(50, vocab: 41, seed: 8)
        for model in [teacher as ComparableModel, student] {
            // 70 needs the 50 tokens repeated; 72 is closer than 3 steps to 70, so it starts at 73.
            let points = DecodeBenchmark.run(model: model, tokens: ids, contexts: [5, 70, 72], steps: 3)
            #expect(points.map(\.context) == [5, 70, 73])
            for p in points {
                #expect(p.stateBytes == model.decodingStateBytes(context: p.context), "context \(p.context)")
                #expect(p.millisecondsPerToken > 0 && p.tokensPerSecond > 0)
            }
        }
        // The teacher's cache grows with the context; a pure GSA student's state does not.
        #expect(teacher.decodingStateBytes(context: 200) == 2 * teacher.decodingStateBytes(context: 100))
        if hybrid.isEmpty {
            #expect(student.decodingStateBytes(context: 10) == student.decodingStateBytes(context: 10_000))
        } else {
            #expect(student.decodingStateBytes(context: 200) > student.decodingStateBytes(context: 100))
        }
    }

    @Test func decoderHiddenStatesMatchTheWholeWindow() throws {
        let (teacher, student, _) = try makePair()
        let ids = tokens(40, vocab: 41, seed: 9)
        for model in [teacher as ComparableModel, student] {
            let whole = model.hiddenStates(ids)
            let d = model.makeDecoder(capacity: 40)
            _ = d.advance(Array(ids[0..<30]))
            for t in 30..<40 {
                let h = d.advance([ids[t]])
                let ref = whole[t].toArray(), got = h.toArray()
                #expect(zip(ref, got).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($0)) }, "position \(t)")
            }
            #expect(d.position == 40)
        }
    }
}
