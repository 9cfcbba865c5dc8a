// `t2r convert`: teacher → GSA student in fla's layout, with a conversion.json manifest.
import Conversion
import Foundation
import Models
import TensorCore

enum ConvertCommand: Command {
    static let spec = CommandSpec(
        name: "convert",
        abstract: "Convert a Mistral/Llama teacher into a Gated Slot Attention student (fla layout).",
        options: [
            OptionSpec("teacher", value: "path", help: "Teacher checkpoint: HF directory, .safetensors, .h5 or .gguf."),
            OptionSpec("out", value: "dir", help: "Output directory for the student."),
            OptionSpec("num-slots", value: "M", help: "Memory slots per head.", default: "64"),
            OptionSpec("gate-logit-normalizer", value: "tau", help: "τ in g = logsigmoid(f_proj x) / τ.", default: "8"),
            OptionSpec("feature-map", value: "swish|relu", help: "Feature map on q and k.", default: "swish"),
            OptionSpec("f-proj-init", value: "normal|xavier", help: "f_proj init: N(0, 0.02) (fla 0.6) or xavier-uniform gain 2^-2.5 (paper era).", default: "normal"),
            OptionSpec("seed", value: "S", help: "Seed of the f_proj initialisation.", default: "0"),
            OptionSpec("keep-softmax-layers", value: "i,j,…", help: "Layers that keep softmax attention (fla hybrid `attn`).", default: "none"),
            OptionSpec("dtype", value: "bf16|f32|auto", help: "Storage dtype of the student weights; auto keeps a bf16/f32 safetensors teacher's.", default: "auto"),
            OptionSpec("init-tensors", value: "file", help: "safetensors file whose tensors (by student name) replace the created ones."),
            OptionSpec("max-shard-size", value: "bytes", help: "Shard the weights above this size (suffixes K, M, G).", default: "2G"),
            OptionSpec("overwrite", help: "Replace the checkpoint in a non-empty output directory."),
            OptionSpec("json", help: "Print the manifest (conversion.json) to stdout."),
        ],
        discussion: "Every option can also be set from a recipe (student.convert section).")

    static func options(from args: ParsedArguments) throws -> ConversionOptions {
        var o = ConversionOptions()
        o.numSlots = try args.int("num-slots", default: 64, min: 1)
        o.gateLogitNormalizer = try args.double("gate-logit-normalizer") ?? 8
        if let f = args.string("feature-map") {
            guard let fm = GSAConfig.FeatureMap(rawValue: f) else { throw UsageError(message: "--feature-map must be swish or relu, got \"\(f)\"", command: spec.name) }
            o.featureMap = fm
        }
        if let f = args.string("f-proj-init") {
            guard let v = ConversionOptions.FProjInit(rawValue: f) else { throw UsageError(message: "--f-proj-init must be normal or xavier, got \"\(f)\"", command: spec.name) }
            o.fProjInit = v
        }
        if let s = args.string("seed") {
            guard let v = UInt64(s) else { throw UsageError(message: "--seed expects a non-negative integer, got \"\(s)\"", command: spec.name) }
            o.seed = v
        }
        if let k = args.string("keep-softmax-layers"), !k.isEmpty, k != "none" {
            o.keepSoftmaxLayers = try k.split(separator: ",").map {
                guard let i = Int($0.trimmingCharacters(in: .whitespaces)) else {
                    throw UsageError(message: "--keep-softmax-layers expects comma-separated layer indices, got \"\(k)\"", command: spec.name)
                }
                return i
            }
        }
        if let d = args.string("dtype") {
            guard let v = ConversionOptions.OutputDType(rawValue: d) else { throw UsageError(message: "--dtype must be bf16, f32 or auto, got \"\(d)\"", command: spec.name) }
            o.dtype = v
        }
        o.initTensors = args.string("init-tensors")
        if let s = args.string("max-shard-size") {
            guard let b = parseByteSize(s), b > 0 else { throw UsageError(message: "--max-shard-size expects a size like 500M or 2G, got \"\(s)\"", command: spec.name) }
            o.maxShardBytes = b
        }
        o.overwrite = args.flag("overwrite")
        return o
    }

    static func run(_ args: ParsedArguments, _ console: Console) throws -> Int32 {
        let teacherPath = try args.required("teacher"), out = try args.required("out")
        let o = try options(from: args)
        let teacher = try TeacherCheckpoint.open(teacherPath)
        let start = Date()
        nonisolated(unsafe) var bar: ProgressBar?
        let manifest = try GSAConverter.convert(teacher: teacher, to: out, options: o) { event in
            switch event {
            case let .tensor(i, n, _):
                if bar == nil { bar = ProgressBar(console: console, label: "converting", total: n, unit: "tensors") }
                bar?.update(i)
            case let .file(name):
                console.err("writing \(FileSystem.join(out, name))")
            }
        }
        if args.flag("json") {
            console.out(manifest.serialized(indent: 2))
            return 0
        }
        let tensors = manifest["tensors"]?.arrayValue ?? []
        func count(_ a: String) -> Int { tensors.filter { $0["action"]?.stringValue == a }.count }
        let cfg = try GSAConfig.load(FileSystem.join(out, "config.json"))
        console.out("student       \(out) (fla GSAForCausalLM, \(cfg.dtype))")
        console.out("  \(cfg.numLayers) layers (\(cfg.hybrid.map { "softmax kept in \($0.layers)" } ?? "all GSA")), \(cfg.numHeads) heads, "
            + "\(cfg.numKVHeads) kv heads, dk \(cfg.headKDim), dv \(cfg.headVDim), \(cfg.numSlots) slots, τ \(cfg.gateLogitNormalizer), \(cfg.featureMap.rawValue)")
        console.out("tensors       \(count("copied")) copied, \(count("created")) created, \(count("init_tensors")) from --init-tensors, "
            + "\(manifest["dropped"]?.arrayValue?.count ?? 0) teacher tensors dropped")
        if let ig = manifest["init_tensors_ignored"]?.arrayValue, !ig.isEmpty {
            console.out("note          ignored \(ig.count) tensors of \(o.initTensors!) that are not student tensors: "
                + ig.prefix(5).compactMap(\.stringValue).joined(separator: ", ") + (ig.count > 5 ? ", …" : ""))
        }
        console.out("state         \(Format.bytes(cfg.stateFloatsPerSequence * 4)) of recurrent state per sequence (fp32)")
        console.out("files         " + (manifest["files"]?.arrayValue?.compactMap(\.stringValue).joined(separator: ", ") ?? "") + ", conversion.json")
        for note in manifest["tokenizer_notes"]?.arrayValue?.compactMap(\.stringValue) ?? [] { console.err("note: \(note)") }
        console.out("time          \(Format.fixed(Date().timeIntervalSince(start), 2)) s")
        return 0
    }
}

/// "2G" → 2·2^30, "500M", "64K", "123" (bytes).
func parseByteSize(_ s: String) -> Int? {
    let t = s.trimmingCharacters(in: .whitespaces).uppercased().replacingOccurrences(of: "B", with: "").replacingOccurrences(of: "I", with: "")
    let mult: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
    if let last = t.last, let m = mult[last], let v = Double(t.dropLast()) { return Int(v * Double(m)) }
    return Int(t)
}
