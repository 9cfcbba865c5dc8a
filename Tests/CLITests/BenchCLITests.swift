@testable import T2RCLI
import CheckpointIO
import Conversion
import Foundation
import Models
import Ops
import TensorCore
import TestSupport
import Testing

/// The FLOP counts behind `t2r bench`'s GFLOP/s, checked against hand counts and the backward rules.
@Suite struct BenchFLOPCountTests {
    static let teacher = TransformerConfig(family: .llama, vocabSize: 10, hiddenSize: 4, intermediateSize: 8, numLayers: 1,
                                           numHeads: 2, numKVHeads: 1)

    static var student: GSAConfig {
        var c = GSAConfig(vocabSize: 10, hiddenSize: 4, intermediateSize: 8, numLayers: 2, numHeads: 2, numKVHeads: 1)
        c.numSlots = 3
        c.tieWordEmbeddings = true
        return c
    }

    @Test func teacherForwardCountsProjectionsAttentionAndHead() {
        // Layer weights 4·(4 + 2·2) + 4·4 + 3·4·8 = 144; GEMMs 2·3·144 = 864; attention 4·(2·2)·(1+2+3) = 96;
        // head 2·3·4·10 = 240.
        #expect(FLOPCount.teacherForward(Self.teacher, batch: 1, length: 3, logitRows: 3) == 1200)
        #expect(FLOPCount.teacherForward(Self.teacher, batch: 1, length: 3, logitRows: 1) == 1200 - 160)
        // A decode step at 5 cached positions sees 6 keys.
        let step: Double = 2 * 144 + 4 * 4 * 6 + 2 * 4 * 10
        #expect(FLOPCount.teacherDecodeStep(Self.teacher, context: 5) == step)
    }

    @Test func slidingWindowCapsTheKeysSeen() {
        #expect(FLOPCount.visibleKeys(length: 5, window: 2) == 9)
        #expect(FLOPCount.visibleKeys(length: 5, window: nil) == 15)
        #expect(FLOPCount.visibleKeys(length: 2, offset: 3, window: nil) == 4 + 5)
    }

    @Test func gsaCoreMatchesAHandCount() {
        // One chunk of L = 2 tokens (3 causal pairs), G = 2, dk = dv = 2, M = 3:
        // 2·(2·2·3 + 2·3·2)·2 inter + 2·2·(2+3+3+2)·3 intra + (2·2·3 + 2·3·2)·2 state = 96 + 120 + 48.
        let s = GSAShapes(batch: 1, length: 2, heads: 2, kvHeads: 1, keyDim: 2, valueDim: 2, slots: 3)
        #expect(FLOPCount.gsaCore(s) == 264)
        // Linear in the batch; two full chunks cost twice one.
        let one = GSAShapes(batch: 1, length: 64, heads: 2, kvHeads: 1, keyDim: 2, valueDim: 2, slots: 3)
        #expect(FLOPCount.gsaCore(one.with(length: 128)) == 2 * FLOPCount.gsaCore(one))
        let two = GSAShapes(batch: 2, length: 64, heads: 2, kvHeads: 1, keyDim: 2, valueDim: 2, slots: 3)
        #expect(FLOPCount.gsaCore(two) == 2 * FLOPCount.gsaCore(one))
    }

    @Test func backwardIsTwiceTheForwardWhenEveryTensorTrains() {
        let (t, c) = (Self.teacher, Self.student)
        var tc = t
        tc.numLayers = c.numLayers
        let n = 2 * 5
        let teacher = FLOPCount.teacherForward(tc, batch: 2, length: 5, logitRows: n)
        let forward = FLOPCount.studentForward(c, batch: 2, length: 5, logitRows: n)
        let all = FLOPCount.stage2Step(teacher: tc, student: c, batch: 2, length: 5) { _ in true }
        #expect(abs(all - (teacher + 3 * forward)) < 1e-6 * all)
        // Frozen weights: input gradients and the core's backward only (2× the core, 1× the linear layers).
        let cores = Double(c.numLayers) * FLOPCount.gsaCore(FLOPCount.shapes(c, batch: 2, length: 5))
        let none = FLOPCount.stage2Step(teacher: tc, student: c, batch: 2, length: 5) { _ in false }
        #expect(abs(none - (teacher + 2 * forward + cores)) < 1e-6 * none)
    }

    @Test func stageOneTrainsEachMixerOnItsOwn() {
        var tc = Self.teacher
        tc.numLayers = Self.student.numLayers
        let c = Self.student, n = 2.0 * 5
        let teacher = FLOPCount.teacherForward(tc, batch: 2, length: 5, logitRows: 0)
        let core = FLOPCount.gsaCore(FLOPCount.shapes(c, batch: 2, length: 5))
        let mixer = FLOPCount.gsaMixerWeights(c), oProj = Double(c.valueDim * c.hiddenSize)
        let step = FLOPCount.stage1Step(teacher: tc, student: c, batch: 2, length: 5) { _ in false }
        #expect(abs(step - (teacher + 2 * (2 * n * mixer + core + 2 * n * oProj + 2 * core))) < 1e-6 * step)
    }
}

/// `t2r bench` on the tiny Llama fixture: every model measurement runs and reports consistent fields.
@Suite struct BenchCLITests {
    @Test func modelMeasurementsReportTheirFields() throws {
        let tiny = Fixtures.fixture("gguf/tiny_llama.gguf")
        let dir = Fixtures.temporaryDirectory()
        let text = FileSystem.join(dir, "text.txt")
        let persuasion = try readFile(Fixtures.repo("data/austen/persuasion.txt"))
        try writeFileAtomically(text, bytes: Array(persuasion.prefix(20000)))
        let r = try T2RBinary.run(["bench", "teacher,student,stage1,stage2,decode", "--teacher", tiny, "--text", text,
                                   "--chunks", "2", "--context", "32", "--length", "64", "--runs", "1", "--steps", "1",
                                   "--contexts", "4,8", "--decode-tokens", "2", "--recipes", Fixtures.repo("recipes/smollm2-135m"),
                                   "--dir", dir, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let results = try r.stdout.split(separator: "\n").map { try JSONParser.parse(String($0)) }
        #expect(results.map { $0["name"]?.stringValue ?? "" }
            == ["teacher", "teacher", "student", "student", "stage1", "stage2", "decode", "decode", "decode", "decode"])
        for v in results {
            let g = v["gflops"]?.doubleValue ?? 0, s = v["sgemm_gflops"]?.doubleValue ?? 0
            #expect(g > 0 && s > 0)
            #expect(abs((v["fraction"]?.doubleValue ?? 0) - g / s) < 1e-9)
            #expect((v["tokens_per_second"]?.doubleValue ?? 0) > 0)
            #expect((v["peak_rss_bytes"]?.intValue ?? 0) > 0)
        }
        // Both teacher variants score the same positions: the same perplexity; FLOPs as FLOPCount counts them.
        let config = try TeacherCheckpoint.open(tiny).config
        let ppl = results[0...1].map { $0["perplexity"]?.doubleValue ?? 0 }
        #expect(ppl[0] > 1 && abs(ppl[0] / ppl[1] - 1) < 1e-5)
        #expect(results[0]["flops"]?.doubleValue == 2 * FLOPCount.teacherForward(config, batch: 1, length: 32, logitRows: 16))
        #expect(results[3]["speed_relative_to_teacher"]?.doubleValue != nil)
        #expect(results[4]["batch"]?.intValue == 4 && results[5]["batch"]?.intValue == 2)
        // Decode: the teacher's KV cache grows with the context, the student's state does not.
        let decode = results[6...9].map { ($0["model"]?.stringValue ?? "", $0["context"]?.intValue ?? 0, $0["state_bytes"]?.intValue ?? 0) }
        #expect(decode.map(\.0) == ["teacher", "teacher", "student", "student"] && decode.map(\.1) == [4, 8, 4, 8])
        #expect(decode[0].2 == TeacherKVCache.bytes(config: config, batch: 1, length: 4) && decode[1].2 == 2 * decode[0].2)
        #expect(decode[2].2 > 0 && decode[2].2 == decode[3].2)
        // Chunks batched into one forward pass (the default here: both) score as one pass per chunk does.
        let single = try T2RBinary.run(["bench", "teacher", "--teacher", tiny, "--text", text, "--chunks", "2", "--context", "32",
                                        "--batch", "1", "--runs", "1", "--json"])
        #expect(single.status == 0, "\(single.stderr)")
        let one = try single.stdout.split(separator: "\n").map { try JSONParser.parse(String($0)) }
        #expect(results[0]["chunks_per_pass"]?.intValue == 64 && one.first?["chunks_per_pass"]?.intValue == 1)
        #expect(abs((one.first?["perplexity"]?.doubleValue ?? 0) / ppl[0] - 1) < 1e-5)
    }

    /// OpenBLAS's idle workers spin 2^4 cycles (t2r's setting) unless OPENBLAS_THREAD_TIMEOUT says otherwise.
    @Test func blasIdleSpinIsShortUnlessTheUserSetIt() throws {
        let ours = try T2RBinary.run(["bench", "blas", "--quick"])
        #expect(ours.status == 0 && ours.stderr.contains("idle workers spin 2^4 cycles"), "\(ours.stderr)")
        let theirs = try T2RBinary.run(["bench", "blas", "--quick"], environment: ["OPENBLAS_THREAD_TIMEOUT": "6"])
        #expect(theirs.status == 0 && theirs.stderr.contains("idle workers spin 2^6 cycles"), "\(theirs.stderr)")
    }

    @Test func convertStreamsWithFlatMemory() throws {
        // A one-layer Mistral-7B-shaped checkpoint (0.96 GB): converted from a cold page cache by a child
        // `t2r convert`, whose peak RSS stays far below its largest tensor (the 262 MB embedding); the student
        // goes to another directory (--convert-out).
        let dir = Fixtures.temporaryDirectory()
        defer { removeTree(dir) }
        let out = FileSystem.join(dir, "elsewhere")
        let r = try T2RBinary.run(["bench", "convert", "--convert-layers", "1", "--dir", dir, "--convert-out", out, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let v = try JSONParser.parse(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(v["largest_tensor_bytes"]?.intValue == 32000 * 4096 * 2)
        #expect((v["peak_rss_over_largest_tensor"]?.doubleValue ?? 9) < 1)
        #expect((v["peak_rss_bytes"]?.intValue ?? 0) > 0)
        #expect((v["resident_fraction_before_convert"]?.doubleValue ?? 1) < 0.05)
        // The student holds every teacher tensor plus f_proj [Hkv·M, D] and g_norm: about as large.
        let input = Double(v["input_bytes"]?.intValue ?? 0), output = Double(v["output_bytes"]?.intValue ?? 0)
        #expect(input > 9e8 && abs(output / input - 1) < 0.02)
        #expect((v["disk_read_gigabytes_per_second"]?.doubleValue ?? 0) > 0 && (v["fraction_of_disk_read"]?.doubleValue ?? 0) > 0)
        #expect(v["output_directory"]?.stringValue == out && v["output_on_the_input_disk"]?.boolValue == false)
        #expect(try FileSystem.listDirectory(dir) == ["elsewhere"] && FileSystem.listDirectory(out).isEmpty)
    }

    @Test func severalNamesAndUnknownNames() throws {
        let r = try T2RBinary.run(["bench", "dequant,nope"])
        #expect(r.status == 64 && r.stderr.contains("unknown benchmark 'nope'"))
    }
}
