// gsa-bench: wall time of the GSA core op at one layer's shape (default: SmolLM2-135M converted to GSA,
// B 1, T 2048, H 9, Hkv 3, dk = dv = M = 64), for the chunked forward, forward + backward, the recurrent
// forward, and the naive Double reference. A measurement tool, not a test: the 2-core machine is shared, so
// it repeats every timing, reports best and median, and prints the load average and CPU/wall ratio.
//
// Run:  swift run -c release gsa-bench [--threads 2] [--reps 9] [--T 2048] [--naive]
import Glibc
import Ops
import TensorCore

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func cpuSeconds() -> Double {
    var ru = rusage()
    getrusage(RUSAGE_SELF.rawValue, &ru)
    return Double(ru.ru_utime.tv_sec) + Double(ru.ru_utime.tv_usec) * 1e-6 + Double(ru.ru_stime.tv_sec)
        + Double(ru.ru_stime.tv_usec) * 1e-6
}

func loadAverage() -> String {
    guard let f = fopen("/proc/loadavg", "r") else { return "?" }
    defer { fclose(f) }
    var buf = [UInt8](repeating: 0, count: 128)
    let n = fread(&buf, 1, 127, f)
    return String(decoding: buf[0..<n], as: UTF8.self).split(separator: " ").prefix(3).joined(separator: " ")
}

func fmt(_ x: Double, _ digits: Int = 1) -> String {
    var buf = [CChar](repeating: 0, count: 64)
    let n = withVaList([x]) { vsnprintf(&buf, 64, "%.\(digits)f", $0) }
    return String(decoding: buf[0..<Int(max(0, min(n, 63)))].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Times `body` `reps` times after one warm-up: (best, median) seconds and CPU/wall over all reps.
func time(_ reps: Int, _ body: () -> Void) -> (best: Double, median: Double, cpuRatio: Double) {
    body()
    var ts: [Double] = []
    let c0 = cpuSeconds(), w0 = now()
    for _ in 0..<reps {
        let t = now()
        body()
        ts.append(now() - t)
    }
    let ratio = (cpuSeconds() - c0) / (now() - w0)
    ts.sort()
    return (ts[0], ts[ts.count / 2], ratio)
}

/// FLOPs of the chunked kernels as implemented: every GEMM (2·m·n·k) plus the diagonal sub-block
/// multiply-adds; exponentials and other elementwise work are not counted.
func chunkedFlops(_ s: GSAShapes) -> (forward: Double, backward: Double) {
    let (G, dk, dv, M) = (Double(s.groupSize), Double(s.keyDim), Double(s.valueDim), Double(s.slots))
    var fwd = 0.0, bwd = 0.0
    let C = GSAChunking.chunk, BC = GSAChunking.subChunk
    for ci in 0..<s.chunkCount(C) {
        let Li = min(C, s.length - ci * C), L = Double(Li), LG = L * G
        var offDiag = 0.0, diag = 0.0  // one intra GEMM family; one diagonal family (per head, per M)
        for n in stride(from: 0, to: Li, by: BC) {
            let rows = Double(min(n + BC, Li) - n)
            offDiag += 2 * rows * G * Double(n) * M
            diag += rows * (rows + 1) / 2 * G * 2 * M
        }
        let state = 2 * dk * M * L + 2 * M * dv * L
        let qk = 2 * LG * L * dk, inter1 = 2 * LG * M * dk, inter2 = 2 * LG * M * dv, av = 2 * LG * L * dv
        fwd += state + qk + inter1 + 2 * offDiag + 2 * diag + inter2 + av
        // A: qk, Z inter, dAv, dP inter, 2 intra GEMMs + 2 diagonals, Uk, Uv
        let phaseA = qk + inter1 + av + inter2 + 2 * offDiag + 2 * diag + 2 * dk * M * LG + 2 * M * dv * LG
        // C: qk, dAv, 2 contract GEMMs + 2 reverse GEMMs, 4 diagonals (the reverse ones 1.5×), dq, dk, dv, ds inter
        let phaseC = qk + av + 4 * offDiag + 5 * diag + inter1 + 2 * LG * L * dk + 2 * L * LG * dk + 2 * L * M * dk
            + 2 * L * LG * dv + 2 * L * M * dv + 2 * L * M * dk + 2 * L * M * dv
        bwd += phaseA + phaseC
    }
    let bj = Double(s.batch * s.kvHeads)
    return (fwd * bj, bwd * bj)
}

// MARK: arguments

var threads = 2, reps = 9, T = 2048, runNaive = false
var argv = CommandLine.arguments.dropFirst()
while let a = argv.popFirst() {
    switch a {
    case "--threads": threads = Int(argv.popFirst() ?? "") ?? threads
    case "--reps": reps = Int(argv.popFirst() ?? "") ?? reps
    case "--T": T = Int(argv.popFirst() ?? "") ?? T
    case "--naive": runNaive = true
    default:
        print("usage: gsa-bench [--threads N] [--reps N] [--T N] [--naive]")
        exit(64)
    }
}
ComputeThreads.configure(threads: threads)
let shapes = GSAShapes(batch: 1, length: T, heads: 9, kvHeads: 3, keyDim: 64, valueDim: 64, slots: 64)
print("gsa-bench: \(shapes), scale 1, τ 8; \(threads) threads; \(ComputeThreads.blasDescription)")
print("load average before: \(loadAverage())")

var rng = SeededRNG(seed: 1)
let q = Tensor(zeros: shapes.queryShape), k = Tensor(zeros: shapes.keyShape), v = Tensor(zeros: shapes.valueShape)
let f = Tensor(zeros: shapes.gateShape), g = Tensor(zeros: shapes.gateShape)
for t in [q, k, v] { t.fillNormal(std: 1, rng: &rng) }
f.fillNormal(std: 2, rng: &rng)
gsaGateForward(g: g, f: f, normalizer: 8)
let o = Tensor(zeros: shapes.outputShape)
let hkT = Tensor(zeros: shapes.keyStateShape), hvT = Tensor(zeros: shapes.valueStateShape)
let dO = Tensor(zeros: shapes.outputShape)
dO.fillNormal(std: 1, rng: &rng)
let (dq, dk, dv, dg) = (Tensor(zeros: shapes.queryShape), Tensor(zeros: shapes.keyShape), Tensor(zeros: shapes.valueShape),
                        Tensor(zeros: shapes.gateShape))
let workspace = GSAWorkspace()
let cache = GSAChunkCache(shapes: shapes)
let flops = chunkedFlops(shapes)

func report(_ name: String, _ r: (best: Double, median: Double, cpuRatio: Double), flops: Double?) {
    var line = "\(name): best \(fmt(r.best * 1e3, 2)) ms, median \(fmt(r.median * 1e3, 2)) ms, CPU/wall \(fmt(r.cpuRatio, 2))"
    if let flops { line += ", \(fmt(flops / 1e9, 3)) GFLOP → \(fmt(flops / r.best / 1e9)) GFLOP/s (best)" }
    print(line)
}

let fwd = time(reps) {
    gsaForward(o: o, hkT: hkT, hvT: hvT, cache: cache, q: q, k: k, v: v, g: g, hk0: nil, hv0: nil, shapes: shapes,
               workspace: workspace)
}
report("chunked forward", fwd, flops: flops.forward)
let bwd = time(reps) {
    gsaBackward(dq: dq, dk: dk, dv: dv, dg: dg, dhk0: nil, dhv0: nil, dO: dO, dhkT: nil, dhvT: nil, q: q, k: k, v: v,
                g: g, cache: cache, shapes: shapes, workspace: workspace)
}
report("chunked backward", bwd, flops: flops.backward)
let both = time(reps) {
    gsaForward(o: o, hkT: hkT, hvT: hvT, cache: cache, q: q, k: k, v: v, g: g, hk0: nil, hv0: nil, shapes: shapes,
               workspace: workspace)
    gsaBackward(dq: dq, dk: dk, dv: dv, dg: dg, dhk0: nil, dhv0: nil, dO: dO, dhkT: nil, dhvT: nil, q: q, k: k, v: v,
                g: g, cache: cache, shapes: shapes, workspace: workspace)
}
report("chunked forward+backward", both, flops: flops.forward + flops.backward)
let rec = time(reps) {
    let hk = Tensor(zeros: shapes.keyStateShape), hv = Tensor(zeros: shapes.valueStateShape)
    gsaRecurrentForward(o: o, hk: hk, hv: hv, q: q, k: k, v: v, g: g, shapes: shapes)
}
// per token and kv head: Hk, Hv updates 2·dk·M + 2·M·dv, and per query head z 2·dk·M, o 2·M·dv
let recFlops = Double(T * 3) * (4.0 * 4096 + 3 * 4 * 4096)
report("recurrent forward (token by token)", rec, flops: recFlops)
let gate = time(reps) { gsaGateForward(g: g, f: f, normalizer: 8) }
report("gate forward [1, T, 3, 64]", gate, flops: nil)
print("workspace \(fmt(Double(workspace.floatCount) * 4 / 1048576, 1)) MiB, cache \(fmt(Double(cache.keyStates.count + cache.valueStates.count) * 4 / 1048576, 2)) MiB")

if runNaive {
    let (qd, kd, vd, gd) = (q.toArray().map(Double.init), k.toArray().map(Double.init), v.toArray().map(Double.init),
                            g.toArray().map(Double.init))
    var on: [Double] = [], hkn: [Double] = [], hvn: [Double] = []
    let t0 = now()
    gsaNaiveForward(o: &on, hkT: &hkn, hvT: &hvn, q: qd, k: kd, v: vd, g: gd, hk0: nil, hv0: nil, shapes: shapes)
    let tf = now() - t0
    var (gq, gk, gv, gg) = ([Double](repeating: 0, count: qd.count), [Double](repeating: 0, count: kd.count),
                            [Double](repeating: 0, count: vd.count), [Double](repeating: 0, count: gd.count))
    var (g0k, g0v) = ([Double](repeating: 0, count: hkn.count), [Double](repeating: 0, count: hvn.count))
    let t1 = now()
    gsaNaiveBackward(dq: &gq, dk: &gk, dv: &gv, dg: &gg, dhk0: &g0k, dhv0: &g0v, dO: dO.toArray().map(Double.init),
                     dhkT: nil, dhvT: nil, q: qd, k: kd, v: vd, g: gd, hk0: nil, hv0: nil, shapes: shapes)
    let tb = now() - t1
    print("naive Double forward (1 thread): \(fmt(tf * 1e3, 0)) ms; naive Double backward: \(fmt(tb * 1e3, 0)) ms "
          + "(forward+backward \(fmt((tf + tb) * 1e3, 0)) ms)")
    gsaForward(o: o, hkT: hkT, hvT: hvT, cache: cache, q: q, k: k, v: v, g: g, hk0: nil, hv0: nil, shapes: shapes,
               workspace: workspace)
    let diff = zip(o.toArray(), on).reduce(0.0) { max($0, abs(Double($1.0) - $1.1)) }
    print("max |chunked o − naive o| = \(diff)")
}
print("load average after: \(loadAverage())")
