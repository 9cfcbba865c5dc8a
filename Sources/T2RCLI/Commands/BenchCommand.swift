// `t2r bench <name>[,<name>…] [--json]`: performance measurements. Each measurement is a `Benchmark` in its own
// file under T2RCLI/Bench/ and one line in `registeredBenchmarks`; this command parses the options they
// declare, runs one (or `all`), and prints a line per result, or one JSON object per line with --json.
import Foundation
import Glibc
import TensorCore

/// One measurement `t2r bench` can run.
protocol Benchmark {
    /// The name on the command line ("dequant").
    static var name: String { get }
    static var abstract: String { get }
    /// Options the benchmark reads (merged into `t2r bench`'s options).
    static var options: [OptionSpec] { get }
    /// Runs the measurement; `session` holds the options, the progress log (stderr) and shared models.
    static func run(_ session: BenchSession) throws -> [BenchmarkResult]
}

/// Benchmarks in help order. Add a line here for a new `Benchmark`.
var registeredBenchmarks: [BenchmarkEntry] { [
    BenchmarkEntry(BLASBenchmark.self),
    BenchmarkEntry(TeacherBenchmark.self),
    BenchmarkEntry(StudentBenchmark.self),
    BenchmarkEntry(Stage1Benchmark.self),
    BenchmarkEntry(Stage2Benchmark.self),
    BenchmarkEntry(DecodeSpeedBenchmark.self),
    BenchmarkEntry(DequantBenchmark.self),
    BenchmarkEntry(ReadBenchmark.self),
    BenchmarkEntry(ConvertBenchmark.self),
] }

/// A registered benchmark as a value.
struct BenchmarkEntry {
    let name: String
    let abstract: String
    let options: [OptionSpec]
    let run: (BenchSession) throws -> [BenchmarkResult]
    init<B: Benchmark>(_ b: B.Type) {
        name = b.name
        abstract = b.abstract
        options = b.options
        run = b.run
    }
}

/// One measured figure.
struct BenchmarkResult {
    /// The benchmark's name.
    var name: String
    /// What distinguishes results of one benchmark ("1 thread").
    var variant: String
    /// Wall-clock seconds of the measured work (best of the runs).
    var seconds: Double
    /// Bytes the rate is computed on (say which in `rateOf`).
    var bytes: Int
    /// What `bytes` counts ("F32 output", "BF16 input").
    var rateOf: String
    /// Peak resident set size during the measurement.
    var peakRSSBytes: Int
    var threads: Int
    /// Achieved GFLOP/s from counted FLOPs (0 when the measurement is not about arithmetic).
    var gflops: Double = 0
    /// The reference: the best 2-thread sgemm rate measured by `t2r bench blas` in this process.
    var sgemmGflops: Double = 0
    /// Tokens per second (0 when not about tokens).
    var tokensPerSecond: Double = 0
    /// Further fields for the JSON object.
    var extra: [(String, JSONValue)] = []

    /// gflops / sgemmGflops.
    var fraction: Double { sgemmGflops > 0 ? gflops / sgemmGflops : 0 }

    var gigabytesPerSecond: Double { seconds > 0 ? Double(bytes) / seconds / 1e9 : 0 }

    var json: JSONValue {
        .object([
            ("name", .string(name)),
            ("variant", .string(variant)),
            ("seconds", .double(seconds)),
            ("gigabytes_per_second", .double(gigabytesPerSecond)),
            ("bytes", .int(bytes)),
            ("rate_of", .string(rateOf)),
            ("peak_rss_bytes", .int(peakRSSBytes)),
            ("threads", .int(threads)),
            ("gflops", .double(gflops)),
            ("sgemm_gflops", .double(sgemmGflops)),
            ("fraction", .double(fraction)),
            ("tokens_per_second", .double(tokensPerSecond)),
        ] + extra)
    }

    var line: String {
        var s = pad(name, 9) + pad(variant, 12)
        if seconds > 0 { s += Format.fixed(seconds, 3) + " s  " }
        if bytes > 0 { s += Format.fixed(gigabytesPerSecond, 2) + " GB/s (\(rateOf))  " }
        if tokensPerSecond > 0 { s += Format.fixed(tokensPerSecond, 1) + " tok/s  " }
        if gflops > 0 { s += Format.fixed(gflops, 1) + " GFLOP/s" + (sgemmGflops > 0 ? " (\(Format.fixed(100 * fraction, 1))% of sgemm \(Format.fixed(sgemmGflops, 1)))" : "") + "  " }
        return s + "peak RSS \(Format.bytes(peakRSSBytes))"
    }
}

/// Process memory and load figures from /proc (Linux).
enum ProcessStats {
    /// Resets the peak-RSS high-water mark (`echo 5 > /proc/self/clear_refs`); false when not possible,
    /// in which case `peakRSS` is the peak since the process started.
    @discardableResult
    static func resetPeakRSS() -> Bool {
        let fd = open("/proc/self/clear_refs", O_WRONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return write(fd, "5", 1) == 1
    }

    /// Peak resident set size in bytes (VmHWM).
    static var peakRSS: Int { statusField("VmHWM:") }

    /// Peak resident set size of process `pid` (0 once it has exited).
    static func peakRSS(pid: pid_t) -> Int { statusField("VmHWM:", process: String(pid)) }

    private static func statusField(_ field: String, process: String = "self") -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(process)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix(field) }),
              let kb = Int(line.dropFirst(field.count).trimmingCharacters(in: .whitespaces).split(separator: " ")[0])
        else { return 0 }
        return kb * 1024
    }

    /// The 1-minute load average (how busy the machine's cores were).
    static var loadAverage: Double {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8),
              let first = text.split(separator: " ").first, let v = Double(first) else { return -1 }
        return v
    }

    /// Runs `body` `runs` times and returns the best wall time, the peak RSS over all runs, and every time.
    static func measure(runs: Int, _ body: () throws -> Void) rethrows -> (best: Double, peakRSS: Int, all: [Double]) {
        resetPeakRSS()
        var times: [Double] = []
        for _ in 0..<max(1, runs) {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return (times.min() ?? 0, peakRSS, times)
    }
}

enum BenchCommand: Command {
    static let spec = CommandSpec(
        name: "bench",
        abstract: "Measure performance (dequantisation, checkpoint reading, …).",
        positionals: [PositionalSpec("name", help: "Which measurement: " + (registeredBenchmarks.map(\.name) + ["all"]).joined(separator: ", ")
                + "; several separated by commas.")],
        options: [OptionSpec("json", help: "Print one JSON object per result (one per line).")]
            + uniqueOptions(BenchSession.options + registeredBenchmarks.flatMap(\.options)),
        discussion: "Measurements:\n" + registeredBenchmarks.map { "  " + pad($0.name, 10) + $0.abstract }.joined(separator: "\n")
            + "\nOther processes share the cores: each result records the 1-minute load average when it ran."
            + "\nGFLOP/s count matrix-product work only (formulas in T2RCLI/Bench/FLOPCount.swift and BENCHMARKS.md); fraction ="
            + "\nGFLOP/s ÷ the best 2-thread sgemm rate at model shapes, measured once in the same process.")

    static func uniqueOptions(_ options: [OptionSpec]) -> [OptionSpec] {
        var seen = Set<String>()
        return options.filter { seen.insert($0.name).inserted }
    }

    static func run(_ args: ParsedArguments, _ console: Console) throws -> Int32 {
        // "all", one name, or several separated by commas (run in the order given, sharing loaded models).
        let spec0 = args.positionals[0]
        var chosen: [BenchmarkEntry] = []
        for name in spec0 == "all" ? registeredBenchmarks.map(\.name) : spec0.split(separator: ",").map(String.init) {
            guard let b = registeredBenchmarks.first(where: { $0.name == name }) else {
                var msg = "unknown benchmark '\(name)' (expected \((registeredBenchmarks.map(\.name) + ["all"]).joined(separator: ", ")))"
                if let s = ArgumentParser.suggestion(name, registeredBenchmarks.map(\.name)) { msg += "; did you mean '\(s)'?" }
                throw UsageError(message: msg, command: spec.name)
            }
            chosen.append(b)
        }
        let threadsBefore = ComputeThreads.count
        defer { ComputeThreads.configure(threads: threadsBefore) }
        let session = BenchSession(args: args) { console.err($0) }
        if let note = ComputeThreads.coreTypeNote { console.err("note: " + note) }
        for b in chosen {
            session.current = b.name
            let load = ProcessStats.loadAverage
            for var r in try b.run(session) {
                if r.gflops > 0 && r.sgemmGflops == 0 { r.sgemmGflops = session.referenceRate() }
                r.extra.append(("load_average_1m", .double(load)))
                console.out(args.flag("json") ? r.json.serialized() : r.line + "  (load \(Format.fixed(load, 2)))")
            }
        }
        return 0
    }
}
