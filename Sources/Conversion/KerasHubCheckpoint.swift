// A KerasHub preset (Keras 3 `model.weights.h5` + backbone config.json + assets/) presented as a
// teacher: every variable of KerasHubVariable.table found at its path, checked against the config's
// shapes, and exposed under its HF name in HF layout (transposed and reshaped on load).
import CheckpointIO
import Models
import TensorCore

/// Reads KerasHub `.weights.h5` files.
public enum KerasHubCheckpoint {
    /// Where a KerasHub preset keeps its SentencePiece model, relative to the preset directory.
    public static let sentencePieceAsset = "assets/tokenizer/vocabulary.spm"

    /// Maps `file` onto the teacher tensors `config` implies. Throws `CheckpointError.tensorSetMismatch`
    /// listing every missing, unexpected or mis-shaped variable (by dataset path).
    public static func open(_ file: HDF5File, locator loc: CheckpointLocator, config: TransformerConfig,
                            configSource: String) throws -> TeacherCheckpoint {
        let arch = KerasHubArchitecture.of(config.family)
        var problems: [TensorSetProblem] = []
        var mappings: [MappedTensorStore.Mapping] = []
        var claimed = Set<String>()
        for t in TeacherTensor.all(for: config) {
            let variable = KerasHubVariable.entry(t.kind)
            let path = KerasHubVariable.datasetPath(t, arch)
            let want = variable.shape.map { $0.size(config) }
            guard let ds = file.dataset(path) else {
                problems.append(TensorSetProblem(kind: .missing, tensor: path,
                                                 detail: "`\(t.huggingFaceName)`, shape \(variable.describeShape(config))"))
                continue
            }
            claimed.insert(path)
            guard ds.shape == want else {
                problems.append(TensorSetProblem(
                    kind: .wrongShape, tensor: path,
                    detail: "shape \(Shape.describe(ds.shape)) but the config implies \(variable.describeShape(config)) for `\(t.huggingFaceName)`"))
                continue
            }
            mappings.append(.init(name: t.huggingFaceName, source: path, transform: variable.transform))
        }
        for ds in file.datasets where !claimed.contains(ds.path) {
            var detail = "not a variable of a KerasHub \(arch.registeredName) with this config"
            if config.tieWordEmbeddings && ds.path == KerasHubVariable.datasetPath(.lmHead, arch) {
                detail = "reverse embeddings, but the config ties the embeddings (tie_word_embeddings)"
            } else if let block = arch.decoderBlock(ofPath: ds.path), block >= config.numLayers {
                detail = "in decoder block \(block) but num_layers is \(config.numLayers)"
            }
            problems.append(TensorSetProblem(kind: .unexpected, tensor: ds.path, detail: detail))
        }
        if !problems.isEmpty {
            throw CheckpointError.tensorSetMismatch(
                path: file.path, problems: problems.sorted { ($0.kind.rawValue, $0.tensor) < ($1.kind.rawValue, $1.tensor) })
        }
        return TeacherCheckpoint(path: loc.path, format: .kerasHDF5, config: config, configSource: configSource,
                                 store: MappedTensorStore(base: file, mappings: mappings), directory: loc.directory)
    }
}
