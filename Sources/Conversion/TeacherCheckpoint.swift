// Opens a teacher checkpoint from any supported source and presents it the same way: a
// TransformerConfig plus a TensorStore whose names are Hugging Face state-dict names and whose
// tensors are in HF layout ([out, in], rotate-half RoPE order), loadable as Float32.
import CheckpointIO
import Foundation
import Models
import TensorCore

/// The file formats t2r reads.
public enum CheckpointFormat: String, Sendable {
    case safetensors = "safetensors"
    case shardedSafetensors = "safetensors (sharded)"
    case kerasHDF5 = "KerasHub HDF5 (.weights.h5)"
    case flatHDF5 = "HDF5 (flat state dict)"
    case gguf = "GGUF"
}

public final class TeacherCheckpoint: @unchecked Sendable {
    /// The path the user gave.
    public let path: String
    public let format: CheckpointFormat
    public let config: TransformerConfig
    /// Where the configuration came from (a config.json path, or a description).
    public let configSource: String
    /// Tensors under HF names, in HF layout.
    public let store: TensorStore
    /// The directory holding tokenizer files, if any.
    public let directory: String?

    public init(path: String, format: CheckpointFormat, config: TransformerConfig, configSource: String,
                store: TensorStore, directory: String?) {
        self.path = path
        self.format = format
        self.config = config
        self.configSource = configSource
        self.store = store
        self.directory = directory
    }

    /// Problems of the tensor set against the config (empty when the checkpoint is complete).
    public var tensorProblems: [TensorSetProblem] { checkTeacherTensors(store.tensorInfos, config: config) }

    /// Loads teacher tensor `t` (the embedding when the head is tied and `t` is the head).
    public func load(_ t: TeacherTensor) throws -> Tensor {
        if t == .lmHead && config.tieWordEmbeddings { return try store.loadFloat32(TeacherTensor.embedTokens.huggingFaceName) }
        return try store.loadFloat32(t.huggingFaceName)
    }

    /// Opens `path`: a checkpoint directory or a single weights file.
    public static func open(_ path: String) throws -> TeacherCheckpoint {
        let located = try CheckpointLocator.locate(path)
        let ckpt = try located.openTeacher()
        let problems = ckpt.tensorProblems
        if !problems.isEmpty { throw CheckpointError.tensorSetMismatch(path: path, problems: problems) }
        return ckpt
    }
}

/// What was found at a path, before interpreting it as a teacher or a student.
public struct CheckpointLocator: Sendable {
    public let path: String
    public let format: CheckpointFormat
    /// The weights file (or index file) to open.
    public let weightsFile: String
    /// The directory the checkpoint lives in.
    public let directory: String
    /// `config.json` in that directory, if present.
    public let configFile: String?

    /// Finds the weights in `path` (a directory or a file).
    public static func locate(_ path: String) throws -> CheckpointLocator {
        guard FileSystem.exists(path) else { throw CheckpointError.notACheckpoint(path: path, detail: "no such file or directory") }
        if FileSystem.isDirectory(path) {
            let names = try FileSystem.listDirectory(path)
            let config = names.contains("config.json") ? FileSystem.join(path, "config.json") : nil
            func at(_ n: String) -> String { FileSystem.join(path, n) }
            if names.contains("model.safetensors.index.json") {
                return CheckpointLocator(path: path, format: .shardedSafetensors, weightsFile: at("model.safetensors.index.json"),
                                         directory: path, configFile: config)
            }
            if names.contains("model.safetensors") {
                return CheckpointLocator(path: path, format: .safetensors, weightsFile: at("model.safetensors"),
                                         directory: path, configFile: config)
            }
            for (suffix, format) in CheckpointLocator.fileFormats {
                let matches = names.filter { $0.hasSuffix(suffix) }
                if matches.count == 1 {
                    return CheckpointLocator(path: path, format: format(matches[0]), weightsFile: at(matches[0]),
                                             directory: path, configFile: config)
                }
                if matches.count > 1 {
                    throw CheckpointError.notACheckpoint(path: path, detail: "several \(suffix) files (\(matches.joined(separator: ", "))); name one")
                }
            }
            throw CheckpointError.notACheckpoint(
                path: path, detail: "no model.safetensors.index.json, model.safetensors, *.safetensors, *.h5 or *.gguf in the directory")
        }
        let dir = FileSystem.directoryName(path)
        let config = FileSystem.exists(FileSystem.join(dir, "config.json")) ? FileSystem.join(dir, "config.json") : nil
        let base = FileSystem.baseName(path)
        if base.hasSuffix(".safetensors.index.json") {
            return CheckpointLocator(path: path, format: .shardedSafetensors, weightsFile: path, directory: dir, configFile: config)
        }
        for (suffix, format) in CheckpointLocator.fileFormats where base.hasSuffix(suffix) {
            return CheckpointLocator(path: path, format: format(base), weightsFile: path, directory: dir, configFile: config)
        }
        throw CheckpointError.notACheckpoint(path: path, detail: "unknown file type (expected .safetensors, .safetensors.index.json, .h5 or .gguf)")
    }

    /// File suffixes and the format they imply.
    static let fileFormats: [(String, @Sendable (String) -> CheckpointFormat)] = [
        (".safetensors", { _ in .safetensors }),
        (".weights.h5", { _ in .kerasHDF5 }),
        (".h5", { _ in .flatHDF5 }),
        (".gguf", { _ in .gguf }),
    ]

    /// Opens the raw tensor store (names as stored in the file).
    public func openRawStore() throws -> TensorStore {
        switch format {
        case .safetensors: return try SafetensorsFile(path: weightsFile)
        case .shardedSafetensors: return try ShardedSafetensors(indexPath: weightsFile)
        case .kerasHDF5, .flatHDF5: return try HDF5Checkpoint.openRawStore(self)
        case .gguf: return try GGUFFile(path: weightsFile)
        }
    }

    /// Opens the checkpoint as a teacher (config + HF-named tensors). Does not check the tensor set.
    public func openTeacher() throws -> TeacherCheckpoint {
        switch format {
        case .safetensors, .shardedSafetensors:
            guard let configFile else {
                throw CheckpointError.notACheckpoint(path: path, detail: "no config.json next to \(FileSystem.baseName(weightsFile))")
            }
            let config = try TransformerConfig.load(huggingFaceConfigAt: configFile)
            return TeacherCheckpoint(path: path, format: format, config: config, configSource: configFile,
                                     store: try openRawStore(), directory: directory)
        case .kerasHDF5, .flatHDF5: return try HDF5Checkpoint.openTeacher(self)
        case .gguf:
            let store = try GGUFTeacherStore(GGUFFile(path: weightsFile))
            return TeacherCheckpoint(path: path, format: format, config: store.config, configSource: "GGUF metadata (llama.*) of \(weightsFile)",
                                     store: store, directory: directory)
        }
    }
}
