// Opens a GSA student in fla's layout (config.json with model_type "gsa" + safetensors, single or
// sharded), checks its tensors against the config, and loads it into a StudentModel; also writes a
// StudentModel back in the same layout.
import CheckpointIO
import Foundation
import Models
import TensorCore

public final class StudentCheckpoint: @unchecked Sendable {
    public let path: String
    public let config: GSAConfig
    public let configFile: String
    public let store: TensorStore
    public let directory: String

    init(path: String, config: GSAConfig, configFile: String, store: TensorStore, directory: String) {
        self.path = path
        self.config = config
        self.configFile = configFile
        self.store = store
        self.directory = directory
    }

    /// True when `path` is a directory (or a file in one) whose config.json says model_type "gsa".
    public static func isStudent(_ path: String) -> Bool {
        let dir = FileSystem.isDirectory(path) ? path : FileSystem.directoryName(path)
        guard let bytes = try? readFile(FileSystem.join(dir, "config.json"), limit: FileLimits.json), let json = try? JSONParser.parse(bytes) else { return false }
        return json["model_type"]?.stringValue == "gsa"
    }

    /// Opens a student checkpoint and checks its tensor set.
    public static func open(_ path: String) throws -> StudentCheckpoint {
        let loc = try CheckpointLocator.locate(path)
        guard loc.format == .safetensors || loc.format == .shardedSafetensors else {
            throw CheckpointError.unsupported(path: path, reason: "GSA students are read from safetensors (fla layout), not \(loc.format.rawValue)")
        }
        guard let cf = loc.configFile else { throw CheckpointError.notACheckpoint(path: path, detail: "no config.json") }
        let config = try GSAConfig.load(cf)
        let store = try loc.openRawStore()
        let ckpt = StudentCheckpoint(path: path, config: config, configFile: cf, store: store, directory: loc.directory)
        let problems = checkStudentTensors(store.tensorInfos.map { ($0.name, $0.shape) }, config: config)
        if !problems.isEmpty { throw CheckpointError.tensorSetMismatch(path: path, problems: problems) }
        return ckpt
    }

    /// Loads every tensor into a new model; `trainable` selects the tensors that get gradients.
    public func loadModel(trainable: (StudentTensor) -> Bool = { _ in false }) throws -> StudentModel {
        // Values of every tensor, plus gradients of the trainable ones.
        let counts = StudentTensor.all(for: config).map { (Shape.elementCount($0.expectedShape(config)) ?? Int.max, trainable($0)) }
        let floats = counts.reduce(0) { $0.addingReportingOverflow($1.0 * ($1.1 ? 2 : 1)).partialValue }
        try MemoryBudget.check(MemoryBudget.floatBytes(floats), for: "loading the student \(path) (weights and gradients, \(floats) floats)")
        let m = StudentModel(config: config, trainable: trainable)
        for t in StudentTensor.all(for: config) {
            m.value(t).assign(try store.loadFloat32(t.flaName))
        }
        return m
    }

    /// Writes `model`'s parameters as an fla checkpoint (config.json + safetensors) into `directory`,
    /// storing weights in `dtype` (F32 or BF16). Tokenizer files are copied from `tokenizerSource` if given.
    public static func save(_ model: StudentModel, to directory: String, dtype: SafetensorsDType = .F32,
                            tokenizerSource: String? = nil, maxShardBytes: Int = 2 << 30) throws {
        try FileSystem.createDirectory(directory)
        var cfg = model.config
        cfg.dtype = dtype == .BF16 ? "bfloat16" : "float32"
        let entries = StudentTensor.all(for: cfg).map { t -> SafetensorsEntry in
            SafetensorsEntry(name: t.flaName, tensor: model.value(t), dtype: dtype)
        }
        let written = try ShardedSafetensorsWriter.write(entries, to: directory, maxShardBytes: maxShardBytes)
        // Remove weights of an earlier save that this one does not overwrite.
        for n in try FileSystem.listDirectory(directory) where n.hasPrefix("model") && n.contains(".safetensors") && !written.contains(n) {
            FileSystem.remove(FileSystem.join(directory, n))
        }
        try writeFileAtomically(FileSystem.join(directory, "config.json"), text: cfg.json.serialized(indent: 2) + "\n")
        if let src = tokenizerSource {
            for f in ["tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"] {
                let p = FileSystem.join(src, f)
                if FileSystem.exists(p) { try writeFileAtomically(FileSystem.join(directory, f), bytes: try readFile(p)) }
            }
        }
    }
}
