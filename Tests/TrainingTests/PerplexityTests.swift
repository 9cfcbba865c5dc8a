import Corpus
import Models
import TensorCore
import TestSupport
import Testing
import Training

@Suite struct PerplexityPlanTests {
    @Test func strideEqualToContextScoresContextMinusOnePerWindow() {
        let p = PerplexityPlan(tokenCount: 4096, context: 512, stride: 512)
        #expect(p.windows.count == 8)
        #expect(p.windows.allSatisfy { $0.scored == 511 })
        #expect(p.tokensScored == 4088)
    }

    @Test func overlappingWindowsScoreEachTokenOnce() {
        // The transformers guide's loop: window begin 0, 256, 512, …; each scores tokens after the previous end.
        let p = PerplexityPlan(tokenCount: 1000, context: 512, stride: 256)
        #expect(p.windows.map(\.begin) == [0, 256, 512])
        #expect(p.windows.map(\.firstTarget) == [1, 512, 768])
        #expect(p.windows.map(\.end) == [512, 768, 1000])
        #expect(p.tokensScored == 999)
        // Every token but the very first is scored exactly once.
        var seen = Set<Int>()
        for w in p.windows { for t in w.firstTarget..<w.end { #expect(seen.insert(t).inserted) } }
        #expect(seen == Set(1..<1000))
    }

    @Test func shortInputs() {
        #expect(PerplexityPlan(tokenCount: 2, context: 512, stride: 256).tokensScored == 1)
        #expect(PerplexityPlan(tokenCount: 1, context: 512, stride: 256).windows.isEmpty)
        #expect(PerplexityPlan(tokenCount: 513, context: 512, stride: 512).tokensScored == 511)
    }
}
