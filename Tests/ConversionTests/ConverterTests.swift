import CheckpointIO
import Conversion
import Models
import TensorCore
import TestSupport
import Testing

@Suite struct ConverterTests {
    @Test func manifestAccountsForEveryTensorAndCopiesAreExact() throws {
        let dir = Fixtures.temporaryDirectory()
        let teacherDir = "\(dir)/teacher"
        let tensors = try SyntheticCheckpoint.write(to: teacherDir, dtype: .BF16,
                                                    extraTensors: ["model.layers.1.self_attn.rotary_emb.inv_freq": [2]])
        let teacher = try TeacherCheckpoint.open(teacherDir)
        var o = ConversionOptions()
        o.numSlots = 5
        let manifest = try GSAConverter.convert(teacher: teacher, to: "\(dir)/student", options: o)
        let cfg = try GSAConfig.load("\(dir)/student/config.json")
        #expect(cfg.numSlots == 5 && cfg.numKVHeads == 2 && cfg.dtype == "bfloat16" && cfg.normEps == 1e-5)
        let student = try SafetensorsFile(path: "\(dir)/student/model.safetensors")
        #expect(checkStudentTensors(student.entries.map { ($0.name, $0.shape) }, config: cfg).isEmpty)
        // Every student tensor is in the manifest; every teacher tensor is a source or dropped.
        let records = manifest["tensors"]!.arrayValue!
        #expect(Set(records.map { $0["name"]!.stringValue! }) == Set(student.entries.map(\.name)))
        let sources = Set(records.compactMap { $0["source"]?.stringValue })
        let dropped = Set(manifest["dropped"]!.arrayValue!.map { $0["name"]!.stringValue! })
        #expect(sources.union(dropped) == Set(tensors.keys))
        #expect(sources.intersection(dropped).isEmpty)
        #expect(dropped == ["model.layers.1.self_attn.rotary_emb.inv_freq"])
        // Copies are bit-identical (bf16 in, bf16 out: streamed raw).
        let tf = try SafetensorsFile(path: "\(teacherDir)/model.safetensors")
        for r in records where r["action"]?.stringValue == "copied" {
            let s = r["name"]!.stringValue!, t = r["source"]!.stringValue!
            #expect(Array(try student.rawBytes(s)) == Array(try tf.rawBytes(t)), "\(s) ← \(t)")
        }
        // Created tensors: f_proj ~ N(0, 0.02), g_norm ones.
        let f = try student.loadFloat32("model.layers.0.attn.f_proj.weight").toArray()
        #expect(f.count == 2 * 5 * 24)
        let std = (f.map { Double($0) * Double($0) }.reduce(0, +) / Double(f.count)).squareRoot()
        #expect(abs(std - 0.02) < 0.004, "f_proj std \(std)")
        #expect(try student.loadFloat32("model.layers.1.attn.g_norm.weight").toArray() == [Float](repeating: 1, count: 24))
        // The conversion is deterministic for a seed, and the seed matters.
        let again = try GSAConverter.convert(teacher: teacher, to: "\(dir)/again", options: o)
        #expect(try readFile("\(dir)/again/model.safetensors") == readFile("\(dir)/student/model.safetensors"))
        _ = again
        o.seed = 9
        try GSAConverter.convert(teacher: teacher, to: "\(dir)/seed9", options: o)
        #expect(try SafetensorsFile(path: "\(dir)/seed9/model.safetensors").loadFloat32("model.layers.0.attn.f_proj.weight").toArray() != f)
    }

    @Test func xavierInitAndTiedHeadAndHybridLayers() throws {
        let dir = Fixtures.temporaryDirectory()
        try SyntheticCheckpoint.write(to: "\(dir)/t", modelType: "llama", tied: true)
        var o = ConversionOptions()
        o.fProjInit = .xavier
        o.numSlots = 4
        o.keepSoftmaxLayers = [1]
        o.dtype = .f32
        let m = try GSAConverter.convert(teacher: try TeacherCheckpoint.open("\(dir)/t"), to: "\(dir)/s", options: o)
        let cfg = try GSAConfig.load("\(dir)/s/config.json")
        #expect(cfg.tieWordEmbeddings && cfg.hybrid?.layers == [1] && cfg.hybrid?.ropeTheta == 500 && cfg.hybrid?.windowSize == nil)
        let s = try SafetensorsFile(path: "\(dir)/s/model.safetensors")
        #expect(s.info("lm_head.weight") == nil)
        #expect(s.info("model.layers.1.attn.f_proj.weight") == nil && s.info("model.layers.0.attn.f_proj.weight") != nil)
        let bound = Float(0.1767766952966369 * (6.0 / Double(24 + 8)).squareRoot())
        let f = try s.loadFloat32("model.layers.0.attn.f_proj.weight").toArray()
        #expect(f.allSatisfy { abs($0) <= bound } && f.contains { abs($0) > bound / 2 })
        #expect(m["tensors"]!.arrayValue!.first { $0["name"]?.stringValue == "model.layers.0.attn.f_proj.weight" }?["init"]?["scheme"]?.stringValue == "xavier_uniform")
    }

    /// Hybrid layers run the teacher's own softmax attention, RoPE θ and sliding window: a student that keeps
    /// every layer as softmax attention computes the teacher's logits, in one pass and token by token.
    @Test func keepingEveryLayerReproducesTheTeacher() throws {
        let dir = Fixtures.temporaryDirectory()
        try SyntheticCheckpoint.write(to: "\(dir)/t", layers: 3, slidingWindow: 6)
        let teacherCkpt = try TeacherCheckpoint.open("\(dir)/t")
        var o = ConversionOptions()
        o.keepSoftmaxLayers = [0, 1, 2]
        o.dtype = .f32
        try GSAConverter.convert(teacher: teacherCkpt, to: "\(dir)/s", options: o)
        let cfg = try GSAConfig.load("\(dir)/s/config.json")
        #expect(cfg.hybrid?.layers == [0, 1, 2] && cfg.hybrid?.windowSize == 6 && cfg.hybrid?.ropeTheta == 500)
        let teacher = try teacherCkpt.loadModel(), student = try StudentCheckpoint.open("\(dir)/s").loadModel()
        let tokens = (0..<40).map { ($0 * 11 + 3) % 37 }
        let want = teacher.logits(teacher.forward(tokens: tokens, batch: 1)).toArray()
        expectClose("all-softmax student vs teacher", student.logits(student.forward(tokens: tokens, batch: 1)).toArray(), want,
                    atol: 1e-5, rtol: 1e-5)
        let state = StudentState(config: student.config, batch: 1, capacity: 64)
        var stepped: [Float] = []
        for t in tokens { stepped += student.logits(student.forward(tokens: [t], batch: 1, state: state)).toArray() }
        expectClose("all-softmax student, token by token", stepped, want, atol: 1e-5, rtol: 1e-4)
    }

    /// The other GSA settings reach the model: relu feature map, τ = 4, 7 slots; the chunked forward equals
    /// token-by-token decoding with them, and they change the logits.
    @Test func featureMapAndGateNormalizerReachTheModel() throws {
        let (dir, teacher) = try syntheticTeacher()
        var o = ConversionOptions()
        o.featureMap = .relu
        o.gateLogitNormalizer = 4
        o.numSlots = 7
        o.dtype = .f32
        try GSAConverter.convert(teacher: teacher, to: "\(dir)/relu", options: o)
        let cfg = try GSAConfig.load("\(dir)/relu/config.json")
        #expect(cfg.featureMap == .relu && cfg.gateLogitNormalizer == 4 && cfg.numSlots == 7)
        let m = try StudentCheckpoint.open("\(dir)/relu").loadModel()
        let tokens = (0..<70).map { ($0 * 5 + 1) % 37 }
        let whole = m.logits(m.forward(tokens: tokens, batch: 1)).toArray()
        let state = StudentState(config: m.config, batch: 1, capacity: 128)
        var stepped: [Float] = []
        for t in tokens { stepped += m.logits(m.forward(tokens: [t], batch: 1, state: state)).toArray() }
        expectClose("relu, τ = 4: chunked vs recurrent", stepped, whole, atol: 2e-5, rtol: 1e-4)
        o.featureMap = .swish
        o.gateLogitNormalizer = 8
        try GSAConverter.convert(teacher: teacher, to: "\(dir)/swish", options: o)
        let d = try StudentCheckpoint.open("\(dir)/swish").loadModel()
        let other = d.logits(d.forward(tokens: tokens, batch: 1)).toArray()
        #expect(zip(other, whole).map { abs($0 - $1) }.max()! > 1e-3)
    }

    /// Above --max-shard-size the student is written as shards with an index (as transformers does); it loads
    /// as the same model as the single-file conversion, and conversion.json lists the files.
    @Test func largeStudentsAreSharded() throws {
        let (dir, teacher) = try syntheticTeacher()
        var o = ConversionOptions()
        o.dtype = .f32
        try GSAConverter.convert(teacher: teacher, to: "\(dir)/single", options: o)
        o.maxShardBytes = 8 * 1024
        let m = try GSAConverter.convert(teacher: teacher, to: "\(dir)/sharded", options: o)
        let files = try FileSystem.listDirectory("\(dir)/sharded").filter { $0.hasPrefix("model") }
        #expect(files.contains("model.safetensors.index.json") && files.count >= 4 && !files.contains("model.safetensors"), "\(files)")
        #expect(Set(m["files"]!.arrayValue!.compactMap(\.stringValue)).isSuperset(of: files))
        let a = try StudentCheckpoint.open("\(dir)/single").loadModel(), b = try StudentCheckpoint.open("\(dir)/sharded").loadModel()
        for t in StudentTensor.all(for: a.config) { #expect(a.value(t).toArray() == b.value(t).toArray(), "\(t)") }
        let index = try ShardedSafetensors(indexPath: "\(dir)/sharded/model.safetensors.index.json")
        #expect(index.tensorInfos.count == StudentTensor.all(for: a.config).count)
    }

    @Test func initTensorsReplaceCreatedOnes() throws {
        let dir = Fixtures.temporaryDirectory()
        try SyntheticCheckpoint.write(to: "\(dir)/t")
        let g = Tensor(shape: [2 * 3, 24], values: (0..<144).map { Float($0) / 100 })
        try SafetensorsWriter.write([SafetensorsEntry(name: "model.layers.1.attn.f_proj.weight", tensor: g),
                                     SafetensorsEntry(name: "something.else", tensor: g)], to: "\(dir)/init.safetensors")
        var o = ConversionOptions()
        o.numSlots = 3
        o.initTensors = "\(dir)/init.safetensors"
        let m = try GSAConverter.convert(teacher: try TeacherCheckpoint.open("\(dir)/t"), to: "\(dir)/s", options: o)
        let s = try SafetensorsFile(path: "\(dir)/s/model.safetensors")
        #expect(try s.loadFloat32("model.layers.1.attn.f_proj.weight").toArray() == g.toArray())
        #expect(m["init_tensors_ignored"]!.arrayValue! == [.string("something.else")])
        o.numSlots = 4  // now the shape no longer fits
        #expect(throws: ConversionError.self) { try GSAConverter.convert(teacher: try TeacherCheckpoint.open("\(dir)/t"), to: "\(dir)/s2", options: o) }
    }

    @Test func refusals() throws {
        let dir = Fixtures.temporaryDirectory()
        try SyntheticCheckpoint.write(to: "\(dir)/odd", headDim: 6)  // 6 heads × 6 ≠ 24
        let odd = try TeacherCheckpoint.open("\(dir)/odd")
        #expect(throws: ConversionError.self) { try GSAConverter.convert(teacher: odd, to: "\(dir)/x", options: ConversionOptions()) }
        try SyntheticCheckpoint.write(to: "\(dir)/t")
        let t = try TeacherCheckpoint.open("\(dir)/t")
        var o = ConversionOptions()
        o.keepSoftmaxLayers = [2]
        #expect(throws: ConversionError(path: "\(dir)/t", reason: "--keep-softmax-layers: layer 2 is outside 0..<2")) {
            try GSAConverter.convert(teacher: t, to: "\(dir)/y", options: o)
        }
        try GSAConverter.convert(teacher: t, to: "\(dir)/z", options: ConversionOptions())
        #expect(throws: ConversionError.self) { try GSAConverter.convert(teacher: t, to: "\(dir)/z", options: ConversionOptions()) }
        // An unknown teacher tensor is a tensor-set error before anything is written.
        try SyntheticCheckpoint.write(to: "\(dir)/u", extraTensors: ["model.layers.0.self_attn.q_proj.bias": [24]])
        #expect(throws: CheckpointError.self) { try TeacherCheckpoint.open("\(dir)/u") }
    }

    @Test(.enabled(if: Fixtures.sharedAvailable, Comment(rawValue: Fixtures.sharedMissingReason)))
    func tinyMistralManifest() throws {
        let dir = Fixtures.temporaryDirectory()
        var o = ConversionOptions()
        o.initTensors = Fixtures.shared("checkpoints/tiny-mistral/golden.safetensors")
        o.dtype = .f32
        let m = try GSAConverter.convert(teacher: try TeacherCheckpoint.open(Fixtures.shared("checkpoints/tiny-mistral")), to: dir, options: o)
        let recs = m["tensors"]!.arrayValue!
        #expect(recs.count == 69)
        #expect(recs.filter { $0["action"]?.stringValue == "created" }.count == 6)
        #expect(recs.filter { $0["action"]?.stringValue == "copied" }.count == 57)
        #expect(recs.filter { $0["action"]?.stringValue == "init_tensors" }.count == 6)
        #expect(Set(m["init_tensors_ignored"]!.arrayValue!.compactMap(\.stringValue)) == ["input_ids", "teacher_logits", "gsa_logits"])
        for f in ["tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"] {
            #expect(FileSystem.exists("\(dir)/\(f)"), "\(f)")
        }
    }
}

/// A synthetic teacher (SyntheticCheckpoint defaults) in a fresh directory: (the directory, the teacher at dir/t).
private func syntheticTeacher() throws -> (String, TeacherCheckpoint) {
    let dir = Fixtures.temporaryDirectory()
    try SyntheticCheckpoint.write(to: "\(dir)/t")
    return (dir, try TeacherCheckpoint.open("\(dir)/t"))
}
