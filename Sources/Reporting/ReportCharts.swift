// The report's plots: perplexity and KL by position inside the window, decode time and state memory
// against the context length, and the loss curves of each training run given.
extension ComparisonReport {
    /// The plots, by file name, in the order the report shows them.
    public func charts() -> [(file: String, chart: LineChart)] {
        var out: [(String, LineChart)] = []
        let byPosition = pooled.summaries(by: buckets).filter { $0.summary.tokens > 0 }
        if !byPosition.isEmpty {
            let ticks = byPosition.enumerated().map { AxisTick(Double($0.offset), $0.element.bucket.label) }
            let x = ChartAxis("position in the window (tokens of context)", ticks: ticks)
            out.append(("ppl-by-position.svg", LineChart(
                title: "Perplexity by position in the window", note: "context \(context), stride \(stride); all texts",
                x: x, y: ChartAxis("perplexity", scale: .logarithmic),
                series: [ChartSeries("teacher", byPosition.enumerated().map { ChartPoint(Double($0.offset), $0.element.summary.teacher.perplexity) }),
                         ChartSeries("student", byPosition.enumerated().map { ChartPoint(Double($0.offset), $0.element.summary.student.perplexity) })])))
            out.append(("kl-by-position.svg", LineChart(
                title: "KL(teacher ‖ student) by position in the window", note: "mean over the tokens of each position range; all texts",
                x: x, y: ChartAxis("KL, nats per token", includeZero: true),
                series: [ChartSeries("KL(teacher ‖ student)", byPosition.enumerated().map { ChartPoint(Double($0.offset), $0.element.summary.meanKL) })])))
        }
        if !teacherDecode.isEmpty {
            let ticks = teacherDecode.map { AxisTick(Double($0.context), String($0.context)) }
            out.append(("decode-time.svg", LineChart(
                title: "Decoding time per token vs context length",
                note: "median of \(decodeSteps) steps, T = 1 with the LM head, \(threads) thread\(threads == 1 ? "" : "s")",
                x: ChartAxis("tokens already in the context", scale: .logarithmic, ticks: ticks),
                y: ChartAxis("milliseconds per token", includeZero: true),
                series: [ChartSeries("teacher (KV cache)", teacherDecode.map { ChartPoint(Double($0.context), $0.millisecondsPerToken) }),
                         ChartSeries("student (recurrent state)", studentDecode.map { ChartPoint(Double($0.context), $0.millisecondsPerToken) })])))
        }
        if !memory.isEmpty {
            let mib = 1024.0 * 1024.0
            out.append(("decode-memory.svg", LineChart(
                title: "Decoding state memory vs context length", note: "one sequence, float32; from the model configurations",
                x: ChartAxis("tokens in the context", scale: .logarithmic),
                y: ChartAxis("MiB", scale: .logarithmic),
                series: [ChartSeries("teacher KV cache", memory.map { ChartPoint(Double($0.context), Double($0.teacherBytes) / mib) }),
                         ChartSeries("student state", memory.map { ChartPoint(Double($0.context), Double($0.studentBytes) / mib) })])))
        }
        for (i, r) in runs.enumerated() {
            // A single component equal to the total (e.g. stage 1's mse) would only hide under it.
            let total = r.losses.first
            let shown = r.losses.enumerated().filter { $0.offset == 0 || $0.element.values != total?.values }.map(\.element)
            let positive = shown.allSatisfy { $0.values.allSatisfy { $0 > 0 } }
            out.append(("loss-\(i + 1)-\(fileSafe(r.name)).svg", LineChart(
                title: "Training loss: \(r.name)", note: r.path,
                x: ChartAxis("optimizer step"), y: ChartAxis("loss", scale: positive ? .logarithmic : .linear),
                series: shown.map { ChartSeries($0.name, zip($0.steps, $0.values).map { ChartPoint(Double($0), $1) }) })))
        }
        return out
    }

    /// A name reduced to letters, digits, '-', '_' and '.'.
    func fileSafe(_ s: String) -> String {
        String(s.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") ? $0 : "_" })
    }
}

extension MemoryPoint {
    /// Both models' decoding state at 64, 128, … (doubling) up to `upTo` tokens.
    public static func sweep(teacher: ComparableModel, student: ComparableModel, upTo: Int) -> [MemoryPoint] {
        var out: [MemoryPoint] = []
        var c = 64
        while c <= max(upTo, 64) {
            out.append(MemoryPoint(context: c, teacherBytes: teacher.decodingStateBytes(context: c),
                                   studentBytes: student.decodingStateBytes(context: c)))
            c *= 2
        }
        return out
    }
}
