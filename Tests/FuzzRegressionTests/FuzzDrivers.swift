// What each fuzz target does with one input: the reader entry points t2r's commands use, driven the way
// `t2r inspect`, `convert`, `distill` and `tokenize` drive them. One file serves both the libFuzzer
// binary (tools/fuzz.sh compiles it with tools/fuzz/FuzzMain.swift) and the regression tests that replay
// every finding (FuzzRegressionTests.swift), so a fixed crash stays fixed through the same code path.
// A driver returns every error the readers threw; it must never crash, and every error must be typed.
import CheckpointIO
import Conversion
import Models
import Recipes
import TensorCore
import Tokenization

/// The fuzz targets, one per input format.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// A single .safetensors file.
    case safetensors
    /// model.safetensors.index.json beside two valid shards.
    case shardedIndex = "sharded-index"
    /// A GGUF file (metadata, tensors, tokenizer arrays).
    case gguf
    /// An HDF5 file built from a structure description (HDF5Description.swift).
    case hdf5
    /// Raw bytes as an HDF5 file: libhdf5's own parser, whose crashes t2r must contain (HDF5Sandbox).
    case hdf5Raw = "hdf5-raw"
    /// config.json of every kind, tokenizer_config.json, preprocessor.json.
    case config
    /// A Hugging Face tokenizer.json.
    case tokenizerJSON = "tokenizer-json"
    /// A SentencePiece tokenizer.model.
    case sentencepiece
    /// A JSON5 recipe.
    case recipe

    /// Runs the target on `input`, with `scratch` an existing directory it may fill; returns the errors
    /// the readers threw (refusals are fine, crashes are not).
    public func run(_ input: UnsafeRawBufferPointer, scratch: String) -> [Error] {
        var errors = Errors()
        switch self {
        case .safetensors: FuzzDrivers.safetensors(input, scratch, &errors)
        case .shardedIndex: FuzzDrivers.shardedIndex(input, scratch, &errors)
        case .gguf: FuzzDrivers.gguf(input, scratch, &errors)
        case .hdf5: FuzzDrivers.hdf5(input, scratch, &errors)
        case .hdf5Raw: FuzzDrivers.hdf5Raw(input, scratch, &errors)
        case .config: FuzzDrivers.config(input, scratch, &errors)
        case .tokenizerJSON: FuzzDrivers.tokenizerJSON(input, &errors)
        case .sentencepiece: FuzzDrivers.sentencePiece(input, &errors)
        case .recipe: FuzzDrivers.recipe(input, &errors)
        }
        return errors.all
    }

    /// `run` over an array.
    public func run(_ input: [UInt8], scratch: String) -> [Error] {
        input.withUnsafeBytes { run($0, scratch: scratch) }
    }
}

/// Errors collected while driving the readers.
struct Errors {
    var all: [Error] = []

    /// Runs `body`, recording what it throws.
    mutating func attempt(_ body: () throws -> Void) {
        do { try body() } catch { all.append(error) }
    }

    /// The value `body` returns, or nil after recording what it throws.
    mutating func value<T>(_ body: () throws -> T) -> T? {
        do { return try body() } catch {
            all.append(error)
            return nil
        }
    }
}

/// True for the errors a reader may throw: t2r's typed errors (and the JSON parser's, which readers wrap
/// but a direct parse may surface).
public func isTypedReaderError(_ e: Error) -> Bool { e is T2RError || e is JSONParseError }

/// Text every fuzzed tokenizer encodes: ASCII words, digits, runs of spaces, newlines, Latin-1, CJK, an
/// emoji, a combining mark, control characters and special-token look-alikes.
let fuzzProbeText = "Hello world!  It's 2024: 3.14159 ==> done.\n\tTabs\u{00A0}and é, e\u{0301}, 漢字, 😀, \u{0}\u{7F} <s></s><unk> ▁x"

enum FuzzDrivers {
    /// Writes `data` to `dir/name` (replacing it) and returns the path.
    static func write(_ data: UnsafeRawBufferPointer, _ dir: String, _ name: String) -> String {
        let path = FileSystem.join(dir, name)
        FileSystem.remove(path)
        do { try writeFileAtomically(path, bytes: Array(data)) } catch { fatalError("fuzz driver: cannot write \(path): \(error)") }
        return path
    }

    static func safetensors(_ input: UnsafeRawBufferPointer, _ dir: String, _ e: inout Errors) {
        let path = write(input, dir, "model.safetensors")
        guard let f = e.value({ try SafetensorsFile(path: path) }) else { return }
        for t in f.entries {
            e.attempt {
                switch t.dtype {
                case .F32, .F16, .BF16, .F64: _ = try f.loadFloat32(t.name)
                default: _ = try f.loadIntegers(t.name)
                }
            }
        }
        _ = f.tensorInfos
    }

    static func shardedIndex(_ input: UnsafeRawBufferPointer, _ dir: String, _ e: inout Errors) {
        let good = FileSystem.join(FuzzDrivers.repoRoot, "Tests/Fixtures/safetensors/sharded/good")
        for n in ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"] where !FileSystem.exists(FileSystem.join(dir, n)) {
            guard let bytes = try? readFile(FileSystem.join(good, n)) else { fatalError("fuzz driver: missing fixture \(good)/\(n)") }
            _ = bytes.withUnsafeBytes { write($0, dir, n) }
        }
        let path = write(input, dir, "model.safetensors.index.json")
        guard let s = e.value({ try ShardedSafetensors(indexPath: path) }) else { return }
        for (name, _) in s.weightMap { e.attempt { _ = try s.loadFloat32(name) } }
        _ = s.tensorInfos
        e.attempt { _ = try CheckpointInspection.inspect(dir) }
    }

    static func gguf(_ input: UnsafeRawBufferPointer, _ dir: String, _ e: inout Errors) {
        let path = write(input, dir, "model.gguf")
        // Inputs the reader refuses stop here; the checkpoint-level readers would refuse them again.
        guard let f = e.value({ try GGUFFile(path: path) }) else { return }
        for t in f.tensors { e.attempt { _ = try f.loadFloat32(t.name) } }
        _ = f.metadata
        e.attempt {
            let tok = try GGUFTokenizer.load(f)
            let ids = tok.encode(fuzzProbeText, addSpecialTokens: true, parseSpecial: true)
            _ = tok.decode(ids + [-1, 0, 1, 1 << 40], skipSpecialTokens: false)
        }
        e.attempt { _ = try CheckpointInspection.inspect(path) }
        e.attempt { _ = try TeacherCheckpoint.open(path).loadModel() }
    }

    static func hdf5(_ input: UnsafeRawBufferPointer, _ dir: String, _ e: inout Errors) {
        for n in (try? FileSystem.listDirectory(dir)) ?? [] { FileSystem.remove(FileSystem.join(dir, n)) }
        guard let path = HDF5Description(String(decoding: input, as: UTF8.self)).write(in: dir) else { return }
        guard let f = e.value({ try HDF5File(path: path) }) else { return }
        for d in f.datasets { e.attempt { _ = try f.loadFloat32(d.path) } }
        e.attempt { for a in try f.attributeNames() { _ = try f.stringListAttribute(a) } }
        e.attempt { _ = try CheckpointInspection.inspect(path) }
        e.attempt { _ = try TeacherCheckpoint.open(dir).loadModel() }
    }

    static func hdf5Raw(_ input: UnsafeRawBufferPointer, _ dir: String, _ e: inout Errors) {
        let path = write(input, dir, "model.h5")
        guard let f = e.value({ try HDF5File(path: path) }) else { return }
        for d in f.datasets { e.attempt { _ = try f.loadFloat32(d.path) } }
        e.attempt { for a in try f.attributeNames() { _ = try f.stringListAttribute(a) } }
        e.attempt { _ = try TeacherCheckpoint.open(path).loadModel() }
    }

    static func config(_ input: UnsafeRawBufferPointer, _ dir: String, _ e: inout Errors) {
        let bytes = Array(input)
        if let json = e.value({ try JSONParser.parse(bytes) }) {
            _ = json.serialized(indent: 2)
            e.attempt {
                let c = try TransformerConfig(huggingFaceJSON: json, file: "config.json")
                _ = c.huggingFaceJSON().serialized()
                _ = CheckpointInspection.describe(c)
            }
            e.attempt { _ = try GSAConfig(json: json, file: "config.json").json.serialized() }
        }
        e.attempt { _ = try TransformerConfig.load(teacherConfigJSON: bytes, file: "config.json") }
        let path = write(input, dir, "tokenizer_config.json")
        e.attempt { _ = try TokenizerConfig.loadHuggingFace(path) }
        e.attempt { _ = try TokenizerConfig.loadKerasHub(path) }
        e.attempt { _ = try TokenizerConfig.isKerasLayerConfig(path) }
    }

    static func tokenizerJSON(_ input: UnsafeRawBufferPointer, _ e: inout Errors) {
        guard let t = e.value({ try TokenizerJSON.parse(Array(input), file: "tokenizer.json") }) else { return }
        for special in [false, true] {
            let ids = t.encode(fuzzProbeText, addSpecialTokens: special, parseSpecial: special)
            _ = t.decode(ids + [-1, t.vocabularySize, 1 << 40], skipSpecialTokens: special)
        }
    }

    static func sentencePiece(_ input: UnsafeRawBufferPointer, _ e: inout Errors) {
        guard let m = e.value({ try SentencePieceModel.parse(Array(input), file: "tokenizer.model") }) else { return }
        for legacy in [true, false] {
            e.attempt {
                let t = try m.tokenizer(addBOS: true, addEOS: legacy, legacy: legacy, file: "tokenizer.model")
                let ids = t.encode(fuzzProbeText, addSpecialTokens: true, parseSpecial: legacy)
                _ = t.decode(ids + [-1, m.pieces.count, 1 << 40], skipSpecialTokens: legacy)
            }
        }
    }

    static func recipe(_ input: UnsafeRawBufferPointer, _ e: inout Errors) {
        let text = String(decoding: input, as: UTF8.self)
        guard let doc = e.value({ try RecipeDocument.parse(text, file: "recipe.json5") }) else { return }
        e.attempt { _ = Recipe.resolvedJSON(try Recipe.decode(doc, file: "recipe.json5")).serialized(indent: 2) }
        e.attempt {
            let o = try RecipeDocument.applyOverrides(doc, ["schedule.steps=3", "run.output=x", "data.train=['a.u16']"], file: "recipe.json5")
            _ = try Recipe.decode(o, file: "recipe.json5")
        }
    }

    /// The repository root (two levels above this file's directory).
    static let repoRoot: String = {
        var p = #filePath
        for _ in 0..<3 { p = FileSystem.directoryName(p) }
        return p
    }()
}
