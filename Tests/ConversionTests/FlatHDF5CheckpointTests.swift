import CheckpointIO
import Conversion
import Models
import TensorCore
import TestSupport
import Testing

private let flat = Fixtures.fixture("hdf5/flat")
private let bad = Fixtures.fixture("hdf5/flat/malformed")

@Suite struct FlatHDF5CheckpointTests {
    /// (file or directory, storage type, twin) of every well-formed flat fixture.
    static let good: [(String, StorageType, String)] = [
        ("beside", "F32", "mistral-twin"),
        ("standalone/nested-f16.h5", "F16", "mistral-twin"),
        ("standalone/root-bf16.h5", "BF16", "mistral-twin"),
        ("standalone/llama-nested-bf16.h5", "BF16", "llama-twin"),
    ]

    @Test(arguments: good.map(\.0))
    func equalsItsSafetensorsTwin(_ name: String) throws {
        let (_, storage, twinName) = Self.good.first { $0.0 == name }!
        let path = "\(flat)/\(name)"
        let ckpt = try TeacherCheckpoint.open(path)
        let twin = try TeacherCheckpoint.open(Fixtures.fixture("hdf5/\(twinName)"))
        #expect(ckpt.format == .flatHDF5)
        #expect(ckpt.config == twin.config)
        #expect(ckpt.store.tensorInfos.allSatisfy { $0.storageType == storage })
        try expectBitIdentical(ckpt, twin)
    }

    @Test func configComesFromBesideOrFromTheRootAttribute() throws {
        #expect(try TeacherCheckpoint.open("\(flat)/beside").configSource == "\(flat)/beside/config.json")
        let nested = "\(flat)/standalone/nested-f16.h5"
        #expect(try TeacherCheckpoint.open(nested).configSource == "\(nested) (root attribute `config`)")
        let store = try TeacherCheckpoint.open(nested).store as? MappedTensorStore
        #expect(store?.mapping("model.layers.1.mlp.up_proj.weight")?.source == "model/layers/1/mlp/up_proj/weight")
    }

    @Test func unknownDatasetsAreListed() throws {
        let path = "\(bad)/unknown-dataset.h5"
        let r = tensorSetProblems { _ = try TeacherCheckpoint.open(path) }
        #expect(r?.0 == path)
        #expect(r?.1 == [
            "unexpected tensor `model.layers.0.self_attn.q_proj.bias`: not part of a mistral model with this config",
            "unexpected tensor `model.layers.2.mlp.up_proj.weight`: layer 2 but num_hidden_layers is 2",
        ])
    }

    @Test func missingTensorsAreListed() throws {
        let r = tensorSetProblems { _ = try TeacherCheckpoint.open("\(bad)/missing-tensor.h5") }
        #expect(r?.1 == ["missing tensor `model.layers.1.mlp.down_proj.weight`", "missing tensor `model.norm.weight`"])
    }

    @Test func misshapedTensorsAreListed() throws {
        let r = tensorSetProblems { _ = try TeacherCheckpoint.open("\(bad)/misshaped-tensor.h5") }
        #expect(r?.1 == [
            "tensor `model.layers.0.self_attn.k_proj.weight`: shape [8, 4] but the config implies [4, 8]",
            "tensor `model.layers.1.input_layernorm.weight`: shape [16] but the config implies [8]",
        ])
    }

    @Test func twoDatasetsForOneTensorAreAnError() throws {
        let path = "\(bad)/duplicate-name.h5"
        let r = tensorSetProblems { _ = try TeacherCheckpoint.open(path) }
        #expect(r?.0 == path)
        #expect(r?.1 == ["unexpected tensor `model.norm.weight`: names the same tensor `model.norm.weight` as dataset `model/norm/weight`"])
    }

    @Test func transformersTFLayoutIsRefused() throws {
        let path = "\(bad)/tf-layout.h5"
        #expect(throws: CheckpointError.unsupported(
            path: path,
            reason: "transformers TF checkpoints (tf_model.h5, root attribute layer_names) are not supported; "
                + "convert to safetensors with transformers ≤ 4.x (TFAutoModel → save_pretrained with safe_serialization)")) {
            try TeacherCheckpoint.open(path)
        }
    }

    @Test func unreadableFilesAndConfigsAreTypedErrors() throws {
        let notHDF5 = "\(bad)/not-hdf5.h5"
        #expect(throws: HDF5Error.notHDF5(file: notHDF5)) { try TeacherCheckpoint.open(notHDF5) }
        do {
            _ = try TeacherCheckpoint.open("\(bad)/truncated.h5")
            Issue.record("a truncated file opened")
        } catch let HDF5Error.cannotOpen(file, detail) {
            #expect(file == "\(bad)/truncated.h5")
            #expect(detail.contains("truncated"), "\(detail)")
        }
        let badConfig = "\(bad)/bad-config-attr.h5"
        do {
            _ = try TeacherCheckpoint.open(badConfig)
            Issue.record("a config attribute that is not JSON was accepted")
        } catch let e as ConfigError {
            #expect(e.file == "\(badConfig) (root attribute `config`)")
            #expect(e.problem.hasPrefix("not valid JSON: "), "\(e)")
        }
    }
}
