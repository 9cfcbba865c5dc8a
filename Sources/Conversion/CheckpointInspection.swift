// What `t2r inspect` reports: the configuration summary, every tensor as stored, totals, and the
// problems found (missing, unexpected or mis-shaped tensors). Malformed files throw instead.
import CheckpointIO
import Foundation
import Models
import TensorCore

public struct CheckpointInspection: Sendable {
    public let path: String
    public let format: CheckpointFormat
    public let fileCount: Int
    public let configSource: String?
    /// Human-readable lines describing the architecture.
    public let summary: [String]
    /// The configuration as JSON (HF keys), or null.
    public let configJSON: JSONValue
    public let tensors: [TensorInfo]
    public let warnings: [String]
    public let problems: [String]

    public var parameterCount: Int { tensors.reduce(0) { $0 + $1.elementCount } }
    public var byteCount: Int { tensors.reduce(0) { $0 + $1.byteCount } }

    /// Inspects `path`. Throws for unreadable or malformed files; returns problems for
    /// inconsistent ones.
    public static func inspect(_ path: String) throws -> CheckpointInspection {
        let loc = try CheckpointLocator.locate(path)
        var problems: [String] = []
        var summary: [String] = []
        var configJSON = JSONValue.null
        var configSource: String?
        let store: TensorStore
        if StudentCheckpoint.isStudent(path) {
            // A GSA student (fla layout).
            let config = try GSAConfig.load(loc.configFile!)
            store = try loc.openRawStore()
            let problems = checkStudentTensors(store.tensorInfos.map { ($0.name, $0.shape) }, config: config).map(\.description)
            let fileCount = (store as? ShardedSafetensors)?.shards.count ?? 1
            return CheckpointInspection(path: path, format: loc.format, fileCount: fileCount, configSource: loc.configFile,
                                        summary: describe(config), configJSON: config.json, tensors: store.tensorInfos,
                                        warnings: store.warnings, problems: problems)
        }
        do {
            let teacher = try loc.openTeacher()
            store = teacher.store
            configSource = teacher.configSource
            configJSON = teacher.config.huggingFaceJSON(dtype: teacher.config.declaredDtype ?? "float32")
            summary = describe(teacher.config)
            problems = teacher.tensorProblems.map(\.description)
        } catch let e as CheckpointError {
            guard case .notACheckpoint = e, loc.configFile == nil else { throw e }
            // A bare weights file: show its tensors without a model description.
            store = try loc.openRawStore()
            summary = [(loc.format == .gguf ? "no general.architecture in the GGUF metadata" : "no config.json beside the weights")
                + ": tensors shown as stored, not checked against an architecture"]
        }
        let fileCount = (store as? ShardedSafetensors)?.shards.count ?? 1
        return CheckpointInspection(path: path, format: loc.format, fileCount: fileCount, configSource: configSource,
                                    summary: summary, configJSON: configJSON, tensors: store.tensorInfos,
                                    warnings: store.warnings, problems: problems)
    }

    /// A few lines describing a GSA student architecture.
    public static func describe(_ c: GSAConfig) -> [String] {
        var l1 = "GSAForCausalLM: \(c.numLayers) layers, hidden \(c.hiddenSize), \(c.numHeads) heads, \(c.numKVHeads) kv heads, "
            + "dk \(c.headKDim), dv \(c.headVDim)"
        if let h = c.hybrid { l1 += "; softmax attention kept in layers \(h.layers)" }
        let l2 = "\(c.numSlots) slots, gate_logit_normalizer \(c.gateLogitNormalizer), feature map \(c.featureMap.rawValue), "
            + "SwiGLU MLP \(c.intermediateSize), vocab \(c.vocabSize), norm_eps \(c.normEps)"
        let l3 = "\(c.tieWordEmbeddings ? "tied" : "untied") LM head, dtype \(c.dtype), recurrent state "
            + "\(c.stateFloatsPerSequence * 4) bytes per sequence (fp32)"
        return [l1, l2, l3]
    }

    /// A few lines describing a teacher architecture.
    public static func describe(_ c: TransformerConfig) -> [String] {
        let arch = c.family == .mistral ? "MistralForCausalLM" : "LlamaForCausalLM"
        var l1 = "\(arch): \(c.numLayers) layers, hidden \(c.hiddenSize), \(c.numHeads) heads, \(c.numKVHeads) kv heads"
        if c.numKVHeads != c.numHeads { l1 += " (GQA, \(c.groupSize) queries per kv head)" }
        l1 += ", head_dim \(c.headDim)"
        let l2 = "SwiGLU MLP \(c.intermediateSize), vocab \(c.vocabSize), rms_norm_eps \(c.rmsNormEps), rope_theta \(c.ropeTheta)"
            + (c.ropeScaling != nil ? " (llama3 scaling)" : "")
        let window = c.slidingWindow.map { "sliding window \($0)" } ?? "full causal attention"
        let l3 = "\(window), \(c.tieWordEmbeddings ? "tied" : "untied") LM head, dtype \(c.declaredDtype ?? "unspecified"), "
            + "\(c.parameterCount) parameters"
        return [l1, l2, l3]
    }

    public var json: JSONValue {
        .object([
            ("path", .string(path)),
            ("format", .string(format.rawValue)),
            ("files", .int(fileCount)),
            ("config_source", configSource.map { .string($0) } ?? .null),
            ("config", configJSON),
            ("tensors", .array(tensors.map {
                .object([("name", .string($0.name)), ("dtype", .string($0.storageType.name)),
                         ("shape", .array($0.shape.map { .int($0) })), ("bytes", .int($0.byteCount))])
            })),
            ("total_tensors", .int(tensors.count)),
            ("total_parameters", .int(parameterCount)),
            ("total_bytes", .int(byteCount)),
            ("warnings", .array(warnings.map { .string($0) })),
            ("problems", .array(problems.map { .string($0) })),
        ])
    }
}
