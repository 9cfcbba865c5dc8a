// report.md: the comparison as a Markdown page: the models and settings, the perplexity table, the
// position breakdown, decoding speed and memory, the training runs, each table next to its plot, and a
// short account of how every figure is defined.
extension ComparisonReport {
    /// The report; `chartFiles` are the plot file names (relative to the report) to embed.
    public func markdown(chartFiles: [String]) -> String {
        func image(_ file: String, _ alt: String) -> String { chartFiles.contains(file) ? "![\(alt)](\(file))\n\n" : "" }
        var s = "# Teacher vs student\n\n"
        s += "- teacher: `\(teacher.path)` (\(teacher.kind))\n"
        s += "- student: `\(student.path)` (\(student.kind))\n"
        s += "- texts: " + texts.map { "`\($0.path)` (\(ReportFormat.grouped($0.tokens)) tokens)" }.joined(separator: ", ") + "\n"
        s += "- windows: context \(context), stride \(stride)" + (maxTokens.map { "; first \($0) tokens of each text" } ?? "") + "\n\n"

        s += "## Perplexity\n\n" + perplexityTable().markdown() + "\n"
        s += """
        Perplexity is exp(mean NLL) over the scored tokens, with the standard error of the mean NLL carried to it (tokens
        treated as independent, as llama-perplexity does). student/teacher is exp(mean(NLL_student − NLL_teacher)), its
        ± from the paired per-token differences. KL(t‖s) is the mean over tokens of Σ_v p_teacher(v) (log p_teacher(v) −
        log p_student(v)) between the two full next-token distributions, in nats; top-1 agree is the fraction of tokens on
        which the two models' most likely next token is the same.


        """

        s += "## By position in the window\n\n" + positionTable().markdown() + "\n"
        s += "Position is the number of tokens of context before the target inside its window."
        if stride < context {
            s += " With stride \(stride) < context \(context), positions below \(context - stride) are scored only in the first window."
        }
        s += "\n\n" + image("ppl-by-position.svg", "perplexity by position") + image("kl-by-position.svg", "KL by position")

        if !teacherDecode.isEmpty || !memory.isEmpty {
            s += "## Decoding speed and memory\n\n"
            if !teacherDecode.isEmpty {
                s += decodeTable().markdown() + "\n"
                s += """
                Each model consumes the text up to the context length, then decodes \(decodeSteps) tokens one at a time (one forward
                of a single token plus the LM head); the figure is the median step time, on \(threads) thread\(threads == 1 ? "" : "s").
                The teacher keeps a key/value cache that grows with the context and attends over all of it at every step; the
                student keeps a fixed-size recurrent state.


                """
                s += image("decode-time.svg", "decode time vs context")
            }
            s += image("decode-memory.svg", "decode memory vs context")
        }

        if !runs.isEmpty {
            s += "## Training\n\n" + runsTable().markdown() + "\n"
            s += "valid PPL is the student's perplexity on the run's held-out tokens at its last evaluation.\n\n"
            for (file, chart) in charts() where file.hasPrefix("loss-") { s += image(file, chart.title) }
        }
        return s
    }
}
