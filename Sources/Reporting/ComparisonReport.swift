// Everything `t2r compare` measured, and its outputs: compare.json (every number), report.md (tables
// and the plots), and the SVG plots (ReportCharts.swift), written atomically into one directory.
import TensorCore

/// One evaluated text.
public struct TextComparison: Sendable {
    /// The file as given.
    public let path: String
    /// Tokens of the text that were used (after --max-tokens).
    public let tokens: Int
    /// Teacher and student scores of every scored token.
    public let scores: TokenScores

    /// The results for the text at `path`.
    public init(path: String, tokens: Int, scores: TokenScores) {
        self.path = path
        self.tokens = tokens
        self.scores = scores
    }
}

/// Decoding state size of both models at one context length (from their configurations).
public struct MemoryPoint: Sendable, Equatable {
    /// Tokens in the context.
    public let context: Int
    /// The teacher's KV cache, bytes.
    public let teacherBytes: Int
    /// The student's recurrent state (and kept softmax layers' caches), bytes.
    public let studentBytes: Int
    /// Both sizes at `context` tokens.
    public init(context: Int, teacherBytes: Int, studentBytes: Int) {
        self.context = context
        self.teacherBytes = teacherBytes
        self.studentBytes = studentBytes
    }
}

/// A model as the report names it.
public struct ReportedModel: Sendable, Equatable {
    /// The path it was opened from.
    public let path: String
    /// e.g. "teacher, llama, GGUF" or "GSA student".
    public let kind: String
    /// A model opened from `path`.
    public init(path: String, kind: String) {
        self.path = path
        self.kind = kind
    }
}

/// The results of one comparison.
public struct ComparisonReport: Sendable {
    /// The teacher as given.
    public var teacher: ReportedModel
    /// The student as given.
    public var student: ReportedModel
    /// Window length in tokens.
    public var context: Int
    /// Window advance in tokens.
    public var stride: Int
    /// Per-text token limit, if one was set.
    public var maxTokens: Int?
    /// The texts in the order given.
    public var texts: [TextComparison]
    /// Decode measurements (empty when not measured) and the timed steps per length.
    public var teacherDecode: [DecodePoint] = []
    /// The student's decode measurements, at the teacher's context lengths.
    public var studentDecode: [DecodePoint] = []
    /// Timed decode steps per context length.
    public var decodeSteps = 0
    /// Decoding state sizes over a range of context lengths.
    public var memory: [MemoryPoint] = []
    /// Training runs whose loss curves the report plots.
    public var runs: [TrainingCurves] = []
    /// Worker threads the measurement ran with.
    public var threads = 1

    /// A report of `texts` scored with windows of `context` tokens advancing by `stride`.
    public init(teacher: ReportedModel, student: ReportedModel, context: Int, stride: Int, maxTokens: Int?, texts: [TextComparison]) {
        self.teacher = teacher
        self.student = student
        self.context = context
        self.stride = stride
        self.maxTokens = maxTokens
        self.texts = texts
    }

    /// All texts' tokens together.
    public var pooled: TokenScores {
        var all = TokenScores()
        for t in texts { all.append(t.scores) }
        return all
    }

    /// The position ranges of the breakdown.
    public var buckets: PositionBuckets { PositionBuckets(context: context) }

    /// Every number of the report.
    public func json() -> JSONValue {
        func figure(_ p: PerplexityFigure) -> JSONValue {
            .object([("ppl", .double(p.perplexity)), ("ppl_stderr", .double(p.perplexityStandardError)),
                     ("mean_nll", .double(p.meanNLL)), ("mean_nll_stderr", .double(p.meanNLLStandardError))])
        }
        func summary(_ s: ScoreSummary) -> [(String, JSONValue)] {
            [("tokens_scored", .int(s.tokens)), ("teacher", figure(s.teacher)), ("student", figure(s.student)),
             ("ppl_ratio", .double(s.ratio)), ("ppl_ratio_stderr", .double(s.ratioStandardError)),
             ("kl", .double(s.meanKL)), ("kl_stderr", .double(s.klStandardError)), ("top1_agreement", .double(s.top1Agreement))]
        }
        func decode(_ d: [DecodePoint]) -> JSONValue {
            .array(d.map { .object([("context", .int($0.context)), ("ms_per_token", .double($0.millisecondsPerToken)),
                                    ("tokens_per_second", .double($0.tokensPerSecond)), ("state_bytes", .int($0.stateBytes)),
                                    ("prefill_seconds", .double($0.prefillSeconds))]) })
        }
        func series(_ s: [MetricSeries]) -> JSONValue {
            .object(s.map { ($0.name, .object([("steps", .array($0.steps.map { .int($0) })), ("values", .array($0.values.map { .double($0) }))])) })
        }
        let all = pooled
        return .object([
            ("teacher", .object([("path", .string(teacher.path)), ("kind", .string(teacher.kind))])),
            ("student", .object([("path", .string(student.path)), ("kind", .string(student.kind))])),
            ("context", .int(context)), ("stride", .int(stride)), ("max_tokens", maxTokens.map { .int($0) } ?? .null),
            ("threads", .int(threads)),
            ("texts", .array(texts.map { t in .object([("path", .string(t.path)), ("tokens", .int(t.tokens))] + summary(t.scores.summary())) })),
            ("overall", .object(summary(all.summary()))),
            ("by_position", .array(all.summaries(by: buckets).map { b, s in
                .object([("from", .int(b.range.lowerBound)), ("to", .int(b.range.upperBound - 1))] + summary(s))
            })),
            ("decode", .object([("steps_per_length", .int(decodeSteps)), ("teacher", decode(teacherDecode)), ("student", decode(studentDecode))])),
            ("memory", .array(memory.map { .object([("context", .int($0.context)), ("teacher_bytes", .int($0.teacherBytes)),
                                                     ("student_bytes", .int($0.studentBytes))]) })),
            ("runs", .array(runs.map { r in
                .object([("name", .string(r.name)), ("path", .string(r.path)), ("elapsed_seconds", r.elapsedSeconds.map { .double($0) } ?? .null),
                         ("losses", series(r.losses)), ("evaluations", series(r.evaluations))])
            })),
        ])
    }

    /// Writes report.md, compare.json and the plots into `directory` (created if needed), each file atomically.
    /// Returns the paths written.
    @discardableResult
    public func write(to directory: String) throws -> [String] {
        try FileSystem.createDirectory(directory)
        let plots = charts()
        var files: [(String, String)] = plots.map { ($0.file, $0.chart.svg()) }
        files.append(("compare.json", json().serialized(indent: 2) + "\n"))
        files.append(("report.md", markdown(chartFiles: plots.map(\.file))))
        var written: [String] = []
        for (name, text) in files {
            let path = FileSystem.join(directory, name)
            try writeFileAtomically(path, text: text)
            written.append(path)
        }
        return written
    }
}
