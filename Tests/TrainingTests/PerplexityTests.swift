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

@Suite struct TokenFileTests {
    @Test func roundTripAndErrors() throws {
        let dir = Fixtures.temporaryDirectory()
        try TokenFile.write([0, 1, 65535], to: "\(dir)/a.u16")
        #expect(try TokenFile.read("\(dir)/a.u16") == [0, 1, 65535])
        try TokenFile.write([70000, 3], to: "\(dir)/a.u32")
        #expect(try TokenFile.read("\(dir)/a.u32") == [70000, 3])
        #expect(throws: TokenFileError.idTooLarge(path: "\(dir)/b.u16", id: 70000, limit: 65535)) { try TokenFile.write([70000], to: "\(dir)/b.u16") }
        #expect(throws: TokenFileError.unknownExtension(path: "\(dir)/x.bin")) { try TokenFile.read("\(dir)/x.bin") }
        try writeFileAtomically("\(dir)/odd.u32", bytes: [1, 2, 3])
        #expect(throws: TokenFileError.truncated(path: "\(dir)/odd.u32", bytes: 3, width: 4)) { try TokenFile.read("\(dir)/odd.u32") }
        #expect(throws: TokenFileError.idOutsideVocabulary(path: "p", index: 1, id: 9, vocabSize: 5)) { try TokenFile.validate([1, 9], vocabSize: 5, path: "p") }
    }
}
