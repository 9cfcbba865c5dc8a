// Writes any teacher t2r can open as an ordinary Hugging Face checkpoint directory:
// model.safetensors (or model-0000i-of-0000n.safetensors shards + model.safetensors.index.json, as
// transformers' `save_pretrained` writes them), config.json (TransformerConfig.huggingFaceJSON), and
// tokenizer files: copied from a source directory that has them, or built from a GGUF's vocabulary
// (GGUFTokenizerExport.swift). Tensors stream one at a time (load, convert, write), and everything is
// written into a temporary sibling directory that is renamed into place at the end, so an interrupted
// export leaves no partial checkpoint behind.
import CheckpointIO
import Glibc
import Models
import TensorCore

/// Errors of the export that are about the output location.
public enum ExportError: T2RError, Equatable {
    /// The output directory exists and is not empty.
    case outputExists(path: String)
    /// The output cannot be written (an unsupported dtype was asked for, …).
    case invalidOption(detail: String)

    public var category: ErrorCategory { .usage }
    public var description: String {
        switch self {
        case let .outputExists(p): "\(p) already exists and is not empty; choose a new directory or remove it"
        case let .invalidOption(d): d
        }
    }
}

/// Export of a teacher checkpoint to a Hugging Face checkpoint directory.
public enum HuggingFaceExport {
    /// Tokenizer files copied from a source directory when present (transformers' names).
    /// Shards are cut when the next tensor would take a shard past this many bytes (transformers-style).
    public static let defaultMaxShardBytes = 2_000_000_000

    /// Progress reports.
    public enum Event: Sendable {
        /// Tensor `index` of `count` (HF name) is being converted into `file`.
        case tensor(index: Int, count: Int, name: String, file: String)
        /// A non-tensor file was written.
        case file(String)
    }

    /// What was written.
    public struct Result: Sendable {
        /// The output directory.
        public let directory: String
        /// Files in the output directory, in writing order.
        public let files: [String]
        /// Tensors written.
        public let tensorCount: Int
        /// Sum of the tensors' byte sizes in the output dtype (the index's `total_size`).
        public let tensorBytes: Int
        /// Why no tokenizer was written, or other things the user should know.
        public let notes: [String]
    }

    /// Exports `teacher` to `directory` (created; must not exist or be empty) with tensors in `dtype`
    /// (.F32 or .BF16). Throws `CheckpointError.tensorSetMismatch` for an incomplete or inconsistent
    /// checkpoint, `ExportError` for a bad output location or dtype.
    public static func export(_ teacher: TeacherCheckpoint, to directory: String, dtype: SafetensorsDType = .F32,
                              maxShardBytes: Int = defaultMaxShardBytes, progress: (Event) -> Void = { _ in }) throws -> Result {
        guard dtype == .F32 || dtype == .BF16 else {
            throw ExportError.invalidOption(detail: "export dtype \(dtype.rawValue) is not supported (F32 or BF16)")
        }
        let problems = teacher.tensorProblems
        if !problems.isEmpty { throw CheckpointError.tensorSetMismatch(path: teacher.path, problems: problems) }
        if FileSystem.exists(directory) {
            guard FileSystem.isDirectory(directory), try FileSystem.listDirectory(directory).isEmpty else {
                throw ExportError.outputExists(path: directory)
            }
        }
        let config = teacher.config
        let staging = directory + ".partial-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileSystem.createDirectory(staging)
        var committed = false
        defer { if !committed { removeTree(staging) } }

        // Tensors, in state-dict order, grouped into shards.
        let tensors = TeacherTensor.all(for: config)
        let elementBytes = dtype.bitSize / 8
        let sizes = tensors.map { $0.expectedShape(config).reduce(1, *) * elementBytes }
        var shards: [[Int]] = [[]]
        var shardBytes = 0
        for (i, size) in sizes.enumerated() {
            if !shards[shards.count - 1].isEmpty && shardBytes + size > maxShardBytes {
                shards.append([])
                shardBytes = 0
            }
            shards[shards.count - 1].append(i)
            shardBytes += size
        }
        let shardNames = shards.count == 1 ? ["model.safetensors"]
            : (1...shards.count).map { "model-\(pad5($0))-of-\(pad5(shards.count)).safetensors" }
        var files: [String] = []
        var done = 0
        try withoutActuallyEscaping(progress) { progress in  // the fill closures run inside this call
            for (s, members) in shards.enumerated() {
                let entries = members.map { i -> SafetensorsEntry in
                    let t = tensors[i], shape = t.expectedShape(config), name = t.huggingFaceName
                    return SafetensorsEntry(name: name, dtype: dtype, shape: shape) { buf in
                        done += 1
                        progress(.tensor(index: done, count: tensors.count, name: name, file: shardNames[s]))
                        let w = try teacher.load(t)
                        guard w.shape == shape else {
                            throw CheckpointError.tensorSetMismatch(path: teacher.path, problems: [
                                TensorSetProblem(kind: .wrongShape, tensor: name, detail: "loaded as \(w.shape), expected \(shape)")])
                        }
                        Convert.fromFloat32(w.pointer, buf.baseAddress!, encoding: dtype == .BF16 ? .bfloat16 : .float32, count: w.count)
                    }
                }
                try SafetensorsWriter.write(entries, metadata: ["format": "pt"], to: FileSystem.join(staging, shardNames[s]))
                files.append(shardNames[s])
            }
        }
        if shards.count > 1 {
            var map: [(String, JSONValue)] = []
            for (s, members) in shards.enumerated() {
                for i in members { map.append((tensors[i].huggingFaceName, .string(shardNames[s]))) }
            }
            let index = JSONValue.object([
                ("metadata", .object([("total_size", .int(sizes.reduce(0, +)))])),
                ("weight_map", .object(map.sorted { $0.0 < $1.0 })),
            ])
            try write(index, "model.safetensors.index.json", in: staging, &files, progress)
        }
        try write(configJSON(config, dtype: dtype == .BF16 ? "bfloat16" : "float32"), "config.json", in: staging, &files, progress)

        // Tokenizer.
        let (tokFiles, notes) = try TokenizerFiles.write(from: teacher, into: staging)
        for name in tokFiles {
            files.append(name)
            progress(.file(name))
        }

        // Into place.
        if FileSystem.isDirectory(directory) && rmdir(directory) != 0 {
            throw IOFailure(path: directory, operation: "replace the empty directory", reason: String(cString: strerror(errno)))
        }
        if rename(staging, directory) != 0 {
            throw IOFailure(path: directory, operation: "move the export into place", reason: String(cString: strerror(errno)))
        }
        committed = true
        syncDirectory(of: directory)
        return Result(directory: directory, files: files, tensorCount: tensors.count, tensorBytes: sizes.reduce(0, +), notes: notes)
    }

    /// `TransformerConfig.huggingFaceJSON` (transformers 5 keys) plus the transformers 4 keys for the same
    /// values (`rope_theta`, `rope_scaling`, `torch_dtype`), which transformers 5 folds in, so both read it.
    public static func configJSON(_ config: TransformerConfig, dtype: String) -> JSONValue {
        var members = config.huggingFaceJSON(dtype: dtype).objectMembers ?? []
        var legacy: [(String, JSONValue)] = [("rope_theta", .double(config.ropeTheta)), ("torch_dtype", .string(dtype))]
        if let rope = members.first(where: { $0.0 == "rope_parameters" })?.1, config.ropeScaling != nil {
            legacy.append(("rope_scaling", rope))
        }
        members.removeAll { m in legacy.contains { $0.0 == m.0 } }
        return .object((members + legacy).sorted { $0.0 < $1.0 })
    }

    private static func write(_ json: JSONValue, _ name: String, in dir: String, _ files: inout [String],
                              _ progress: (Event) -> Void) throws {
        try writeFileAtomically(FileSystem.join(dir, name), text: json.serialized(indent: 2) + "\n")
        files.append(name)
        progress(.file(name))
    }

    private static func pad5(_ n: Int) -> String {
        let s = String(n)
        return String(repeating: "0", count: max(0, 5 - s.count)) + s
    }

    /// Removes the staging directory and the files in it (it holds no subdirectories).
    private static func removeTree(_ dir: String) {
        for name in (try? FileSystem.listDirectory(dir)) ?? [] { unlink(FileSystem.join(dir, name)) }
        rmdir(dir)
    }
}
