// Teacher → GSA student conversion (T2R; gsa.md §15): embeddings, every norm, the MLP and q/k/v/o are
// reused unchanged (GQA kept: k/v stay per kv head; no RoPE permutation since GSA has no RoPE); the
// slot gate `attn.f_proj` [Hkv·M, D] and the output norm `attn.g_norm` [D] are created; RoPE and the
// sliding window are dropped for GSA layers and kept for the layers that stay softmax (fla's hybrid
// `attn` config). The student is written in fla's layout, streaming one tensor at a time, with a
// `conversion.json` manifest accounting for every teacher and student tensor.
import CheckpointIO
import Foundation
import Models
import TensorCore

/// Everything `t2r convert` (or a recipe) can set.
public struct ConversionOptions: Sendable, Equatable {
    public enum FProjInit: String, Sendable, CaseIterable {
        /// N(0, initializer_range = 0.02), like fla 0.6.0's `_init_weights`.
        case normal
        /// Xavier-uniform with gain 2^-2.5, like the paper-era fla layer.
        case xavier
    }
    public enum OutputDType: String, Sendable, CaseIterable {
        case bf16, f32
        /// The teacher's own dtype when it is bf16 or f32 safetensors, f32 otherwise.
        case auto
    }

    public var numSlots = 64
    public var gateLogitNormalizer = 8.0
    public var featureMap: GSAConfig.FeatureMap = .swish
    public var fProjInit: FProjInit = .normal
    public var seed: UInt64 = 0
    public var keepSoftmaxLayers: [Int] = []
    public var dtype: OutputDType = .auto
    /// A safetensors file whose tensors (by student name) replace created ones.
    public var initTensors: String?
    public var maxShardBytes = 2 << 30
    /// Replace the weights of an existing non-empty output directory.
    public var overwrite = false

    public init() {}
}

/// Problems that make a teacher unconvertible, or bad options.
public struct ConversionError: T2RError, Equatable {
    public let path: String
    public let reason: String
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
    public var category: ErrorCategory { .badInput }
    public var description: String { "\(path): cannot convert: \(reason)" }
}

/// Progress of a conversion, for the CLI.
public enum ConversionEvent: Sendable {
    /// Tensor `index` of `count` is being written.
    case tensor(index: Int, count: Int, name: String)
    /// A weights file is being written.
    case file(name: String)
}

public enum GSAConverter {
    /// The student architecture for a teacher.
    public static func studentConfig(for t: TransformerConfig, options o: ConversionOptions, teacherPath: String) throws -> GSAConfig {
        func refuse(_ r: String) -> ConversionError { ConversionError(path: teacherPath, reason: r) }
        if t.numHeads * t.headDim != t.hiddenSize {
            throw refuse("num_attention_heads × head_dim = \(t.numHeads * t.headDim) differs from hidden_size \(t.hiddenSize); "
                + "fla's GSA layer derives head dims from hidden_size and its g_norm is [hidden_size], so this teacher has no fla GSA equivalent")
        }
        if o.numSlots <= 0 { throw refuse("--num-slots must be positive, got \(o.numSlots)") }
        if !(o.gateLogitNormalizer > 0) { throw refuse("--gate-logit-normalizer must be positive, got \(o.gateLogitNormalizer)") }
        if let bad = o.keepSoftmaxLayers.first(where: { $0 < 0 || $0 >= t.numLayers }) {
            throw refuse("--keep-softmax-layers: layer \(bad) is outside 0..<\(t.numLayers)")
        }
        if Set(o.keepSoftmaxLayers).count != o.keepSoftmaxLayers.count {
            throw refuse("--keep-softmax-layers lists a layer twice: \(o.keepSoftmaxLayers)")
        }
        if !o.keepSoftmaxLayers.isEmpty && t.ropeScaling != nil {
            throw refuse("the teacher uses llama3 RoPE scaling, which fla's hybrid attention layers do not implement; convert without --keep-softmax-layers")
        }
        var c = GSAConfig(vocabSize: t.vocabSize, hiddenSize: t.hiddenSize, intermediateSize: t.intermediateSize,
                          numLayers: t.numLayers, numHeads: t.numHeads, numKVHeads: t.numKVHeads)
        c.numSlots = o.numSlots
        c.gateLogitNormalizer = o.gateLogitNormalizer
        c.featureMap = o.featureMap
        c.normEps = t.rmsNormEps
        c.tieWordEmbeddings = t.tieWordEmbeddings
        c.maxPositionEmbeddings = t.maxPositionEmbeddings
        c.bosTokenId = t.bosTokenId
        c.eosTokenId = t.eosTokenIds
        c.padTokenId = t.padTokenId
        if !o.keepSoftmaxLayers.isEmpty {
            c.hybrid = GSAConfig.HybridAttention(layers: o.keepSoftmaxLayers.sorted(), numHeads: t.numHeads, numKVHeads: t.numKVHeads,
                                                 windowSize: t.slidingWindow, ropeTheta: t.ropeTheta)
        }
        try c.validate(file: teacherPath)
        return c
    }

    /// Converts `teacher` into a GSA student in `outputDirectory`; returns the manifest (also written
    /// as conversion.json).
    @discardableResult
    public static func convert(teacher: TeacherCheckpoint, to outputDirectory: String, options o: ConversionOptions,
                               progress: @escaping (ConversionEvent) -> Void = { _ in }) throws -> JSONValue {
        var sc = try studentConfig(for: teacher.config, options: o, teacherPath: teacher.path)
        let raw = teacher.store as? RawTensorAccess
        // Output dtype.
        let teacherStorage = Set(teacher.store.tensorInfos.map(\.storageType.name))
        let dtype: SafetensorsDType
        switch o.dtype {
        case .bf16: dtype = .BF16
        case .f32: dtype = .F32
        case .auto: dtype = (teacherStorage == ["BF16"] && raw != nil) ? .BF16 : .F32
        }
        sc.dtype = dtype == .BF16 ? "bfloat16" : "float32"

        // Replacement tensors.
        var initStore: SafetensorsFile?
        var ignoredInit: [String] = []
        if let p = o.initTensors {
            let f = try SafetensorsFile(path: p)
            let studentNames = Set(StudentTensor.all(for: sc).map(\.flaName))
            for e in f.entries where !studentNames.contains(e.name) { ignoredInit.append(e.name) }
            initStore = f
        }

        // Output directory.
        try prepareOutputDirectory(outputDirectory, overwrite: o.overwrite)

        // Plan every student tensor.
        var entries: [SafetensorsEntry] = []
        var manifestTensors: [JSONValue] = []
        var usedTeacher = Set<String>()
        let students = StudentTensor.all(for: sc)
        for (i, st) in students.enumerated() {
            let shape = st.expectedShape(sc)
            let name = st.flaName
            var record: [(String, JSONValue)] = [("name", .string(name)), ("shape", .array(shape.map { .int($0) })),
                                                  ("dtype", .string(dtype.rawValue))]
            if let initStore, let e = initStore.entries.first(where: { $0.name == name }) {
                guard e.shape == shape else {
                    throw ConversionError(path: initStore.path, reason: "tensor `\(name)` has shape \(e.shape), the student needs \(shape)")
                }
                let t = try initStore.loadFloat32(name)
                entries.append(floatEntry(name: name, dtype: dtype, shape: shape) { t })
                record += [("action", .string("init_tensors")), ("source", .string(initStore.path)),
                           ("source_dtype", .string(e.dtype.rawValue))]
                if let src = st.teacherSource { usedTeacher.insert(teacherName(src, teacher)) }
            } else if let src = st.teacherSource {
                let srcName = teacherName(src, teacher)
                usedTeacher.insert(srcName)
                guard let info = teacher.store.info(srcName) else {
                    throw CheckpointError.tensorSetMismatch(path: teacher.path, problems: [TensorSetProblem(kind: .missing, tensor: srcName, detail: "")])
                }
                guard info.shape == shape else {
                    throw ConversionError(path: teacher.path, reason: "teacher tensor `\(srcName)` has shape \(info.shape), the student needs \(shape)")
                }
                if let raw, let r = try raw.rawTensor(srcName), r.dtype == dtype {
                    // Same dtype: copy the bytes from the file to the output with read(2) (never mapped, so RSS
                    // stays flat and a cold input gets the kernel's full read-ahead).
                    entries.append(SafetensorsEntry(name: name, dtype: dtype, shape: shape,
                                                    copyFrom: FileRange(path: r.file.path, offset: r.offset, count: r.bytes.count)))
                } else {
                    let store = teacher.store
                    entries.append(floatEntry(name: name, dtype: dtype, shape: shape) { try store.loadFloat32(srcName) })
                }
                record += [("action", .string("copied")), ("source", .string(srcName)), ("source_dtype", .string(info.storageType.name))]
            } else {
                // Created tensors: f_proj (random) and g_norm (ones).
                switch st {
                case let .fProj(l):
                    let d = sc.hiddenSize, m = shape[0]
                    let seed = o.seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(l + 1)  // one stream per layer: order-independent
                    let opts = o
                    entries.append(floatEntry(name: name, dtype: dtype, shape: shape) {
                        let t = Tensor(zeros: shape)
                        var rng = SeededRNG(seed: seed)
                        switch opts.fProjInit {
                        case .normal: t.fillNormal(std: 0.02, rng: &rng)
                        case .xavier: t.fillUniform(bound: Float(pow(2.0, -2.5) * (6.0 / Double(d + m)).squareRoot()), rng: &rng)
                        }
                        return t
                    })
                    let initDesc: JSONValue = o.fProjInit == .normal
                        ? .object([("scheme", .string("normal")), ("mean", .int(0)), ("std", .double(0.02)), ("seed", .number(String(seed)))])
                        : .object([("scheme", .string("xavier_uniform")), ("gain", .double(pow(2.0, -2.5))),
                                   ("bound", .double(pow(2.0, -2.5) * (6.0 / Double(d + m)).squareRoot())), ("seed", .number(String(seed)))])
                    record += [("action", .string("created")), ("init", initDesc)]
                case .gNorm:
                    entries.append(floatEntry(name: name, dtype: dtype, shape: shape) { Tensor(shape: shape, repeating: 1) })
                    record += [("action", .string("created")), ("init", .object([("scheme", .string("ones"))]))]
                default:
                    preconditionFailure("\(name) has neither a teacher source nor an initialiser")
                }
            }
            manifestTensors.append(.object(record))
            entries[entries.count - 1] = reporting(entries[entries.count - 1], index: i + 1, count: students.count, progress: progress)
        }

        // Teacher tensors not used: dropped on purpose, with the reason.
        var dropped: [JSONValue] = []
        for info in teacher.store.tensorInfos where !usedTeacher.contains(info.name) {
            let reason: String
            if let r = droppedReason(info.name, TeacherTensor.droppedOnPurpose) {
                reason = r
            } else if info.name == TeacherTensor.lmHead.huggingFaceName && teacher.config.tieWordEmbeddings {
                reason = "tie_word_embeddings: the head is the embedding matrix"
            } else {
                throw ConversionError(path: teacher.path, reason: "teacher tensor `\(info.name)` has no place in the student and is not a known tensor to drop")
            }
            dropped.append(.object([("name", .string(info.name)), ("shape", .array(info.shape.map { .int($0) })),
                                    ("dtype", .string(info.storageType.name)), ("action", .string("dropped")), ("reason", .string(reason))]))
        }

        // Direct I/O for the weights: a converted 7B model is gigabytes, and page-cache write-back is the bottleneck.
        let files = try ShardedSafetensorsWriter.write(entries, to: outputDirectory, maxShardBytes: o.maxShardBytes, directIO: true) { name, _, _ in
            progress(.file(name: name))
        }
        try writeFileAtomically(FileSystem.join(outputDirectory, "config.json"), text: sc.json.serialized(indent: 2) + "\n")
        let (tokenizerFiles, tokenizerNotes) = try TokenizerFiles.write(from: teacher, into: outputDirectory)

        let gsaLayers = (0..<sc.numLayers).filter { !sc.isSoftmaxLayer($0) }
        let manifest = JSONValue.object([
            ("t2r_conversion", .int(1)),
            ("teacher", .object([("path", .string(teacher.path)), ("format", .string(teacher.format.rawValue)),
                                 ("config_source", .string(teacher.configSource)), ("family", .string(teacher.config.family.rawValue)),
                                 ("config", teacher.config.huggingFaceJSON(dtype: teacher.config.declaredDtype ?? "float32"))])),
            ("options", .object([("num_slots", .int(o.numSlots)), ("gate_logit_normalizer", .double(o.gateLogitNormalizer)),
                                 ("feature_map", .string(o.featureMap.rawValue)), ("f_proj_init", .string(o.fProjInit.rawValue)),
                                 ("seed", .number(String(o.seed))), ("keep_softmax_layers", .array(o.keepSoftmaxLayers.map { .int($0) })),
                                 ("dtype", .string(dtype.rawValue)), ("init_tensors", o.initTensors.map { .string($0) } ?? .null)])),
            ("gsa_layers", .array(gsaLayers.map { .int($0) })),
            ("dropped_config", .object([
                ("rope_theta", .object([("value", .double(teacher.config.ropeTheta)),
                                        ("reason", .string(gsaLayers.count == sc.numLayers ? "GSA has no positional encoding"
                                            : "dropped for GSA layers; kept as attn.rope_theta for the softmax layers"))])),
                ("sliding_window", .object([("value", teacher.config.slidingWindow.map { .int($0) } ?? .null),
                                            ("reason", .string("GSA layers are recurrent; softmax layers keep it as attn.window_size"))])),
            ])),
            ("tensors", .array(manifestTensors)),
            ("dropped", .array(dropped)),
            ("init_tensors_ignored", .array(ignoredInit.map { .string($0) })),
            ("files", .array((files + ["config.json"] + tokenizerFiles).map { .string($0) })),
            ("tokenizer_notes", .array(tokenizerNotes.map { .string($0) })),
        ])
        try writeFileAtomically(FileSystem.join(outputDirectory, "conversion.json"), text: manifest.serialized(indent: 2) + "\n")
        return manifest
    }

    /// Wraps an entry so writing it reports progress.
    static func reporting(_ e: SafetensorsEntry, index: Int, count: Int, progress: @escaping (ConversionEvent) -> Void) -> SafetensorsEntry {
        if let range = e.copy {
            return SafetensorsEntry(name: e.name, dtype: e.dtype, shape: e.shape, copyFrom: range) {
                progress(.tensor(index: index, count: count, name: e.name))
            }
        }
        if let borrow = e.borrow {
            return SafetensorsEntry(name: e.name, dtype: e.dtype, shape: e.shape, borrow: {
                progress(.tensor(index: index, count: count, name: e.name))
                return try borrow()
            }, release: e.release)
        }
        let fill = e.fill!
        return SafetensorsEntry(name: e.name, dtype: e.dtype, shape: e.shape) { buf in
            progress(.tensor(index: index, count: count, name: e.name))
            try fill(buf)
        }
    }

    /// The teacher name a student tensor reads (the embedding for a tied head).
    static func teacherName(_ t: TeacherTensor, _ teacher: TeacherCheckpoint) -> String {
        if t == .lmHead && teacher.config.tieWordEmbeddings { return TeacherTensor.embedTokens.huggingFaceName }
        return t.huggingFaceName
    }

    /// An entry that materialises a Float32 tensor when written and stores it in `dtype`.
    static func floatEntry(name: String, dtype: SafetensorsDType, shape: [Int], _ make: @escaping () throws -> Tensor) -> SafetensorsEntry {
        let enc: FloatEncoding = dtype == .BF16 ? .bfloat16 : .float32
        return SafetensorsEntry(name: name, dtype: dtype, shape: shape) { buf in
            let t = try make()
            Convert.fromFloat32(t.pointer, buf.baseAddress!, encoding: enc, count: t.count)
        }
    }

    static func prepareOutputDirectory(_ dir: String, overwrite: Bool) throws {
        if FileSystem.exists(dir) && !FileSystem.isDirectory(dir) {
            throw ConversionError(path: dir, reason: "the output path exists and is not a directory")
        }
        try FileSystem.createDirectory(dir)
        let existing = try FileSystem.listDirectory(dir)
        if !existing.isEmpty {
            guard overwrite else {
                throw ConversionError(path: dir, reason: "the output directory is not empty (\(existing.prefix(3).joined(separator: ", "))\(existing.count > 3 ? ", …" : "")); pass --overwrite to replace its checkpoint")
            }
            // Remove the previous checkpoint's weights so no stale shard survives.
            for n in existing where n.hasPrefix("model") && (n.hasSuffix(".safetensors") || n.hasSuffix(".safetensors.index.json")) {
                FileSystem.remove(FileSystem.join(dir, n))
            }
        }
    }
}
