// Opens an HDF5 teacher checkpoint: recognises the layout from the file's contents (formats.md §6.4),
// finds the configuration, and hands over to the KerasHub or the flat-layout reader, which present the
// tensors under HF names in HF layout. transformers' TF `tf_model.h5` (root attribute `layer_names`) is
// recognised and refused.
import CheckpointIO
import Models
import TensorCore

/// HDF5 checkpoints (`*.weights.h5` KerasHub presets and the flat state-dict layout).
public enum HDF5Checkpoint {
    /// The tensors as stored (dataset paths, file shapes).
    public static func openRawStore(_ loc: CheckpointLocator) throws -> TensorStore {
        try HDF5File(path: loc.weightsFile)
    }

    /// Opens the file at `loc` as a teacher. Does not check the tensor set beyond what the layout's
    /// mapping needs (KerasHub variables are checked against the config, every offender listed).
    public static func openTeacher(_ loc: CheckpointLocator) throws -> TeacherCheckpoint {
        let file = try HDF5File(path: loc.weightsFile)
        switch try layout(of: file, default: loc.format) {
        case .kerasHDF5:
            guard let configFile = loc.configFile else {
                throw CheckpointError.notACheckpoint(
                    path: loc.path,
                    detail: "no config.json next to \(FileSystem.baseName(loc.weightsFile)) (a KerasHub preset keeps its backbone config there)")
            }
            let config = try TransformerConfig.load(teacherConfigJSON: try readFile(configFile, limit: FileLimits.json), file: configFile)
            return try KerasHubCheckpoint.open(file, locator: loc, config: config, configSource: configFile)
        default:
            let (config, source) = try flatConfig(file, loc)
            return try FlatHDF5Checkpoint.open(file, locator: loc, config: config, configSource: source)
        }
    }

    /// The layout of `file`: KerasHub when a dataset sits in a `vars` group, flat otherwise; `fallback`
    /// (from the file name) when the file has no datasets. Throws for transformers' TF layout.
    public static func layout(of file: HDF5File, default fallback: CheckpointFormat) throws -> CheckpointFormat {
        if try file.attributeNames().contains("layer_names") {
            throw CheckpointError.unsupported(
                path: file.path,
                reason: "transformers TF checkpoints (tf_model.h5, root attribute layer_names) are not supported; "
                    + "convert to safetensors with transformers ≤ 4.x (TFAutoModel → save_pretrained with safe_serialization)")
        }
        if file.datasets.isEmpty { return fallback }
        return file.datasets.contains { $0.path.split(separator: "/").contains("vars") } ? .kerasHDF5 : .flatHDF5
    }

    /// The flat layout's config: config.json beside the file, else the root attribute `config`.
    static func flatConfig(_ file: HDF5File, _ loc: CheckpointLocator) throws -> (TransformerConfig, String) {
        if let configFile = loc.configFile {
            return (try TransformerConfig.load(teacherConfigJSON: try readFile(configFile, limit: FileLimits.json), file: configFile), configFile)
        }
        let source = "\(loc.weightsFile) (root attribute `config`)"
        guard let text = try file.stringAttribute("config") else {
            throw CheckpointError.notACheckpoint(
                path: loc.path,
                detail: "no config.json next to \(FileSystem.baseName(loc.weightsFile)) and no root attribute `config` in it")
        }
        return (try TransformerConfig.load(teacherConfigJSON: Array(text.utf8), file: source), source)
    }
}

/// The flat layout (formats.md §6.3): one dataset per HF state-dict key, at the root with dots in the
/// name or in nested groups split at the dots, stored [out, in] as float32, float16 or bfloat16-opaque.
public enum FlatHDF5Checkpoint {
    /// The HF name of a dataset path: groups joined with dots.
    public static func huggingFaceName(_ datasetPath: String) -> String {
        datasetPath.split(separator: "/", omittingEmptySubsequences: false).joined(separator: ".")
    }

    /// Exposes `file`'s datasets under HF names. Two datasets naming the same tensor (say `a.b` and
    /// `a/b`) are an error listing every such pair.
    public static func open(_ file: HDF5File, locator loc: CheckpointLocator, config: TransformerConfig,
                            configSource: String) throws -> TeacherCheckpoint {
        var owner: [String: String] = [:]
        var problems: [TensorSetProblem] = []
        var mappings: [MappedTensorStore.Mapping] = []
        for ds in file.datasets {
            let name = huggingFaceName(ds.path)
            if let first = owner[name] {
                problems.append(TensorSetProblem(kind: .unexpected, tensor: ds.path,
                                                 detail: "names the same tensor `\(name)` as dataset `\(first)`"))
                continue
            }
            owner[name] = ds.path
            mappings.append(.init(name: name, source: ds.path, transform: .identity))
        }
        if !problems.isEmpty { throw CheckpointError.tensorSetMismatch(path: file.path, problems: problems) }
        return TeacherCheckpoint(path: loc.path, format: .flatHDF5, config: config, configSource: configSource,
                                 store: MappedTensorStore(base: file, mappings: mappings), directory: loc.directory)
    }
}
