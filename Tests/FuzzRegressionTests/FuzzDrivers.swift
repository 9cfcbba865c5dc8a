// What each fuzz target does with one input: the reader entry points t2r's commands use, driven the way
// `t2r inspect`, `convert`, `distill` and `tokenize` drive them. One file serves both the libFuzzer
// binary (tools/fuzz.sh compiles it with tools/fuzz/FuzzMain.swift) and the regression tests that replay
// every finding (FuzzRegressionTests.swift), so a fixed crash stays fixed through the same code path.
// A driver returns every error the readers threw; it must never crash, and every error must be typed.
import CheckpointIO
import Conversion
import Glibc
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
    /// t2r's HDF5 metadata path: a transcript of libhdf5 reader answers (HDF5Transcript) replayed for an HDF5
    /// file, with an optional config.json beside it (`FuzzDrivers.hdf5`).
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

    /// One input of the `hdf5` target: byte 0 picks the weights file (bit 0 set: `model.weights.h5`, KerasHub;
    /// else `model.h5`, the flat layout), bytes 1-2 (little-endian) the length L of a config.json written
    /// beside it, L bytes of that, then an `HDF5Transcript` the file's reader answers are replayed from.
    static func hdf5(_ input: UnsafeRawBufferPointer, _ dir: String, _ e: inout Errors) {
        for n in (try? FileSystem.listDirectory(dir)) ?? [] { FileSystem.remove(FileSystem.join(dir, n)) }
        guard input.count >= 3 else { return }
        let configLength = Int(input[1]) | Int(input[2]) << 8
        guard input.count >= 3 + configLength else { return }
        if configLength > 0 { _ = write(UnsafeRawBufferPointer(rebasing: input[3..<(3 + configLength)]), dir, "config.json") }
        let path = hdf5WeightsFile(dir, keras: input[0] & 1 == 1)
        let rest = UnsafeRawBufferPointer(rebasing: input[(3 + configLength)...])
        guard let transcript = e.value({ try HDF5Transcript(decoding: rest, file: "transcript") }) else { return }
        transcript.replay { hdf5Session(path, dir, inspect: true, &e) }
    }

    /// The weights file a replayed transcript stands for: HDF5's signature, made sparse to 128 KiB (no dataset
    /// may claim more stored bytes than its file has; a filtered one may expand to 1100× that).
    static func hdf5WeightsFile(_ dir: String, keras: Bool) -> String {
        let path = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A].withUnsafeBytes { write($0, dir, keras ? "model.weights.h5" : "model.h5") }
        guard truncate(path, 128 << 10) == 0 else { fatalError("fuzz driver: cannot size \(path)") }
        return path
    }

    /// What t2r's commands do with an HDF5 file at `path` in `dir`: open it, read every dataset and root
    /// attribute, inspect it (`inspect`), load it as a teacher.
    static func hdf5Session(_ path: String, _ dir: String, inspect: Bool, _ e: inout Errors) {
        guard let f = e.value({ try HDF5File(path: path) }) else { return }
        for d in f.datasets { e.attempt { _ = try f.loadFloat32(d.path) } }
        e.attempt { for a in try f.attributeNames() { _ = try f.stringListAttribute(a) } }
        if inspect { e.attempt { _ = try CheckpointInspection.inspect(path) } }
        e.attempt { _ = try TeacherCheckpoint.open(path).loadModel() }
    }

    /// Seeds of the `hdf5` target: for every HDF5 fixture (with its config.json, if any), the structure
    /// descriptions (Tests/Fixtures/fuzz/seeds/hdf5-descriptions, written by libhdf5) and the hdf5-raw
    /// findings, the transcript of `hdf5Session` run on it through real reader processes, as a target input;
    /// with the errors that run gave. `scratch` is where the files are run (the same directory replays them);
    /// `includeFindings: false` leaves out the hdf5-raw findings (libhdf5 crashes and hangs on those).
    static func hdf5Seeds(scratch dir: String, includeFindings: Bool = true) -> [(name: String, input: [UInt8], errors: [String])] {
        let fixtures = FileSystem.join(repoRoot, "Tests/Fixtures")
        var sources: [(name: String, write: () -> (keras: Bool, config: [UInt8])?)] = []
        let findings = includeFindings ? findFiles(FileSystem.join(fixtures, "fuzz/hdf5-raw"), suffix: ".h5") : []
        for h5 in findFiles(FileSystem.join(fixtures, "hdf5"), suffix: ".h5") + findings {
            sources.append((String(h5.dropFirst(fixtures.count + 1)), {
                let keras = h5.hasSuffix(".weights.h5")
                guard let bytes = try? readFile(h5) else { return nil }
                _ = bytes.withUnsafeBytes { write($0, dir, keras ? "model.weights.h5" : "model.h5") }
                let config = (try? readFile(FileSystem.join(FileSystem.directoryName(h5), "config.json"))) ?? []
                return (keras, config)
            }))
        }
        for d in findFiles(FileSystem.join(fixtures, "fuzz/seeds/hdf5-descriptions"), suffix: ".txt") {
            sources.append((String(d.dropFirst(fixtures.count + 1)), {
                guard let text = try? readFile(d), let path = HDF5Description(String(decoding: text, as: UTF8.self)).write(in: dir) else { return nil }
                let keras = path.hasSuffix(".weights.h5")
                let standard = FileSystem.join(dir, keras ? "model.weights.h5" : "model.h5")
                if path != standard { Glibc.rename(path, standard) }
                let config = (try? readFile(FileSystem.join(dir, "config.json"))) ?? []
                return (keras, config)
            }))
        }
        return sources.compactMap { source in
            for n in (try? FileSystem.listDirectory(dir)) ?? [] { FileSystem.remove(FileSystem.join(dir, n)) }
            guard let (keras, config) = source.write(), config.count < 1 << 16 else { return nil }
            if !config.isEmpty { _ = config.withUnsafeBytes { write($0, dir, "config.json") } }
            let transcript = HDF5Transcript()
            var errors = Errors()
            transcript.record { hdf5Session(FileSystem.join(dir, keras ? "model.weights.h5" : "model.h5"), dir, inspect: true, &errors) }
            let input = [UInt8(keras ? 1 : 0), UInt8(config.count & 0xFF), UInt8(config.count >> 8)] + config + transcript.encoded
            return (source.name, input, errors.all.map { "\($0)" })
        }
    }

    /// Files under `root` (recursively) whose names end in `suffix`, sorted.
    static func findFiles(_ root: String, suffix: String) -> [String] {
        guard FileSystem.isDirectory(root) else { return [] }
        return ((try? FileSystem.listDirectory(root)) ?? []).flatMap { n -> [String] in
            let p = FileSystem.join(root, n)
            return FileSystem.isDirectory(p) ? findFiles(p, suffix: suffix) : (n.hasSuffix(suffix) ? [p] : [])
        }
    }

    static func hdf5Raw(_ input: UnsafeRawBufferPointer, _ dir: String, _ e: inout Errors) {
        hdf5Session(write(input, dir, "model.h5"), dir, inspect: false, &e)
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
