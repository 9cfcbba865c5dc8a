// Reads a run's metrics.jsonl (written by DistillationTrainer: one JSON object per optimizer step with
// "step", "loss", the loss components ("mse" | "kl", "ce"), "lr", "grad_norm", "tokens",
// "tokens_per_second", "elapsed_seconds"; and one {"step", "eval": {...}} per evaluation) into the loss
// curves the report plots. A resumed run may log steps again from its checkpoint: the later lines win.
import TensorCore

/// One named sequence of (step, value).
public struct MetricSeries: Sendable, Equatable {
    /// The metric's key in metrics.jsonl (e.g. "loss", "kl", "valid_ppl").
    public let name: String
    /// Optimizer steps, increasing.
    public internal(set) var steps: [Int] = []
    /// The value at each step.
    public internal(set) var values: [Double] = []

    /// Appends a point; a step at or before the last one first drops the points from that step on (a resumed run).
    mutating func record(step: Int, value: Double) {
        if let last = steps.last, step <= last {
            let keep = steps.firstIndex { $0 >= step } ?? steps.count
            steps.removeSubrange(keep...)
            values.removeSubrange(keep...)
        }
        steps.append(step)
        values.append(value)
    }
}

/// The curves of one training run.
public struct TrainingCurves: Sendable, Equatable {
    /// The run's name: its directory (e.g. "stage1").
    public let name: String
    /// The metrics file read.
    public let path: String
    /// Per-step training losses: "loss" (the total) first, then its components in file order.
    public let losses: [MetricSeries]
    /// Held-out metrics by evaluation step ("valid_nll", "valid_ppl").
    public let evaluations: [MetricSeries]
    /// Seconds the run took (the last step's elapsed_seconds), when logged.
    public let elapsedSeconds: Double?

    /// Keys of a step line that are not losses.
    static let nonLossKeys: Set<String> = ["step", "lr", "grad_norm", "tokens", "tokens_per_second", "elapsed_seconds"]

    /// Reads `path`: a metrics.jsonl file or a run directory containing one.
    public static func read(_ path: String) throws -> TrainingCurves {
        let file = FileSystem.isDirectory(path) ? FileSystem.join(path, "metrics.jsonl") : path
        guard FileSystem.exists(file) else {
            throw KeyedInputError(file: file, key: "", problem: "no such metrics file (give a run directory or its metrics.jsonl)")
        }
        let text = try readFile(file)
        var losses: [MetricSeries] = [], evals: [MetricSeries] = []
        var elapsed: Double?
        func record(_ series: inout [MetricSeries], _ name: String, _ step: Int, _ value: Double) {
            if let i = series.firstIndex(where: { $0.name == name }) {
                series[i].record(step: step, value: value)
            } else {
                var s = MetricSeries(name: name)
                s.record(step: step, value: value)
                series.append(s)
            }
        }
        for (n, line) in text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\t") }) { continue }
            let key = "line \(n + 1)"
            let v: JSONValue
            do { v = try JSONParser.parse(Array(line)) } catch {
                throw KeyedInputError(file: file, key: key, problem: "not a JSON object: \(error)")
            }
            guard let members = v.objectMembers else { throw KeyedInputError(file: file, key: key, problem: "expected a JSON object, found \(v.typeName)") }
            guard let step = v["step"]?.intValue, step >= 0 else {
                throw KeyedInputError(file: file, key: key, problem: "missing a non-negative integer \"step\"")
            }
            if let eval = v["eval"] {
                guard let m = eval.objectMembers else { throw KeyedInputError(file: file, key: key, problem: "\"eval\" must be an object") }
                for (name, x) in m {
                    if let d = x.doubleValue { record(&evals, name, step, d) }
                }
                continue
            }
            // Events, not steps: a rollback, the output-scale calibration before step 1.
            if v["rollback"] != nil || v["calibration"] != nil { continue }
            // Per-layer parts ("mse.layer3") stay in the file for diagnostics; the curves are the totals.
            for (name, x) in members where !nonLossKeys.contains(name) && !x.isNull && !name.contains(".") {
                guard let d = x.doubleValue else {
                    throw KeyedInputError(file: file, key: key, problem: "\"\(name)\" must be a number, found \(x.typeName)")
                }
                record(&losses, name, step, d)
            }
            if let e = v["elapsed_seconds"]?.doubleValue { elapsed = e }
        }
        guard !losses.isEmpty else { throw KeyedInputError(file: file, key: "", problem: "has no training steps") }
        losses = losses.filter { $0.name == "loss" } + losses.filter { $0.name != "loss" }
        let dir = FileSystem.directoryName(file)
        let name = FileSystem.baseName(file) == "metrics.jsonl" ? FileSystem.baseName(dir == "." ? "run" : dir) : FileSystem.baseName(file)
        return TrainingCurves(name: name, path: file, losses: losses, evaluations: evals, elapsedSeconds: elapsed)
    }
}
