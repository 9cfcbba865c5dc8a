// What the measurements of one `t2r bench` run share: the parsed options, the progress log, the sgemm
// reference rate (measured once per process, so every fraction is against the same figure), and models
// loaded once — the teacher, the tokenized text, and the teacher's GSA student (converted into a
// temporary directory, removed when the run ends).
import Conversion
import Foundation
import Models
import TensorCore

final class BenchSession {
    let args: ParsedArguments
    private let write: (String) -> Void
    /// The measurement running now (prefixes progress lines).
    var current = ""
    private var sgemmRate: Double?
    private var loadedTeacher: (checkpoint: TeacherCheckpoint, model: TeacherModel)?
    private var loadedTokens: (ids: [Int], addsBOS: Bool)?
    private var studentDirectory: String?
    private var scratchDirectory: String?

    static let defaultTeacher = "checkpoints/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf"
    static let defaultText = "data/austen/persuasion.txt"

    /// Options every model measurement reads.
    static let options: [OptionSpec] = [
        OptionSpec("teacher", value: "PATH", help: "Teacher checkpoint for the model measurements.", default: defaultTeacher),
        OptionSpec("text", value: "PATH", help: "Text the model measurements run on (tokenized with the teacher's tokenizer).",
                   default: defaultText),
        OptionSpec("threads", value: "N", help: "Threads of the model measurements (BLAS and t2r's own loops).", default: "2"),
        OptionSpec("dir", value: "DIR", help: "Where measurements write temporary files.", default: "$TMPDIR or /tmp"),
        OptionSpec("quick", help: "Short settings (fewer chunks, runs and contexts) for development runs; not for figures."),
    ]

    init(args: ParsedArguments, log: @escaping (String) -> Void) {
        self.args = args
        write = log
    }

    /// Writes a progress line (stderr).
    func log(_ s: String) { write("bench \(current): \(s)") }

    deinit {
        if let d = scratchDirectory { removeTree(d) }
    }

    var quick: Bool { args.flag("quick") }

    /// The thread count of the model measurements (also applied to BLAS and `parallelFor`).
    func configureThreads() throws -> Int {
        let n = try args.int("threads", default: 2, min: 1)
        ComputeThreads.configure(threads: n)
        return n
    }

    /// The best 2-thread sgemm rate over the model shapes (GFLOP/s), measured on first use.
    func referenceRate() -> Double {
        if let r = sgemmRate { return r }
        log("measuring the sgemm reference rate (2 threads)")
        let r = BLASBenchmark.measure(threads: 2).map(\.1).max() ?? 0
        sgemmRate = r
        return r
    }

    /// Records the reference rate measured by `t2r bench blas`.
    func setReferenceRate(_ r: Double) { sgemmRate = r }

    /// A directory for this run's temporary files, created on first use and removed with the session.
    func scratch() throws -> String {
        if let d = scratchDirectory { return d }
        let base = args.string("dir") ?? ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        let d = FileSystem.join(base, "t2r-bench-\(getpid())")
        try FileSystem.createDirectory(d)
        scratchDirectory = d
        return d
    }

    var teacherPath: String { args.string("teacher") ?? Self.defaultTeacher }

    /// The teacher checkpoint and its model, loaded once.
    func teacher() throws -> (checkpoint: TeacherCheckpoint, model: TeacherModel) {
        if let t = loadedTeacher { return t }
        log("loading the teacher \(teacherPath)")
        let ckpt = try TeacherCheckpoint.open(teacherPath)
        let t = (ckpt, try ckpt.loadModel())
        loadedTeacher = t
        return t
    }

    /// The text's token ids (teacher tokenizer, as `t2r perplexity` and llama-perplexity tokenize it) and
    /// whether the tokenizer puts BOS first.
    func tokens() throws -> (ids: [Int], addsBOS: Bool) {
        if let t = loadedTokens { return t }
        let path = args.string("text") ?? Self.defaultText
        let tok = try LoadedTokenizer(path: teacherPath)
        let t = (try tok.encodeFile(path), tok.tokenizer.addsBOS)
        log("\(path): \(t.0.count) tokens")
        loadedTokens = t
        return t
    }

    /// The first `count` tokens of the text, repeated if the text is shorter.
    func tokens(count: Int) throws -> [Int] {
        let ids = try tokens().ids
        precondition(!ids.isEmpty, "the benchmark text is empty")
        return (0..<count).map { ids[$0 % ids.count] }
    }

    /// The teacher converted to a GSA student with the recipes' conversion options (64 slots, τ 8, swish),
    /// in F32, loaded with `trainable` selecting the tensors that get gradients.
    func student(trainable: (StudentTensor) -> Bool = { _ in false }) throws -> StudentModel {
        if studentDirectory == nil {
            let dir = FileSystem.join(try scratch(), "student")
            var o = ConversionOptions()
            o.dtype = .f32
            log("converting the teacher into a GSA student in \(dir)")
            try GSAConverter.convert(teacher: try teacher().checkpoint, to: dir, options: o)
            studentDirectory = dir
        }
        return try StudentCheckpoint.open(studentDirectory!).loadModel(trainable: trainable)
    }
}

/// Removes a directory tree this process created (files and subdirectories; symbolic links are not followed).
func removeTree(_ path: String) {
    var st = stat()
    guard lstat(path, &st) == 0 else { return }
    if (st.st_mode & S_IFMT) == S_IFDIR {
        for name in (try? FileSystem.listDirectory(path)) ?? [] { removeTree(FileSystem.join(path, name)) }
        rmdir(path)
    } else {
        FileSystem.remove(path)
    }
}
