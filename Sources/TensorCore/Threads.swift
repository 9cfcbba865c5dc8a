// Threading: the one place that touches the process-wide thread settings (OpenBLAS's thread pool and
// the worker count of our own parallel loops). Only the CLI calls `ComputeThreads.configure`.
import COpenBLAS
import Dispatch
import Glibc
import Synchronization

public enum ComputeThreads {
    private static let workers = Atomic<Int>(max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))

    /// Sets the worker count for OpenBLAS and for `parallelFor`, and shortens OpenBLAS's idle spinning
    /// (`shortenBLASIdleSpin`). Called by the CLI only.
    public static func configure(threads: Int) {
        let n = max(1, threads)
        workers.store(n, ordering: .relaxed)
        shortenBLASIdleSpin()
        openblas_set_num_threads(Int32(n))
    }

    /// After each call OpenBLAS's worker threads keep spinning (sched_yield) for about 2^28 cycles before
    /// they sleep. With as many threads as cores, that spinning takes a core from t2r's own parallel loops
    /// (softmax, SwiGLU, norms) between two matrix products: the teacher prefill ran 8–13% faster with
    /// OPENBLAS_THREAD_TIMEOUT=4 (a spin of 2^4 cycles), with either kernel family. That variable is read when
    /// the library loads, so unless the user set it, t2r sets it, has OpenBLAS read its environment again
    /// (`openblas_read_env`) and restarts the thread pool (`blas_thread_shutdown_`, `blas_thread_init`).
    /// Those are exported by OpenBLAS's shared library but not declared in its headers: they are looked up
    /// with dlsym, and a BLAS without them is left as it is. Returns true when the pool was restarted.
    @discardableResult
    static func shortenBLASIdleSpin() -> Bool {
        guard getenv("OPENBLAS_THREAD_TIMEOUT") == nil else { return false }
        typealias Call = @convention(c) () -> Int32
        typealias VoidCall = @convention(c) () -> Void
        let handle = UnsafeMutableRawPointer(bitPattern: 0)  // RTLD_DEFAULT
        guard let readEnv = dlsym(handle, "openblas_read_env"), let shutdown = dlsym(handle, "blas_thread_shutdown_"),
              let initialize = dlsym(handle, "blas_thread_init") else { return false }
        setenv("OPENBLAS_THREAD_TIMEOUT", "4", 0)
        unsafeBitCast(readEnv, to: VoidCall.self)()
        _ = unsafeBitCast(shutdown, to: Call.self)()
        _ = unsafeBitCast(initialize, to: Call.self)()
        return true
    }

    /// The current worker count of `parallelFor`.
    public static var count: Int { workers.load(ordering: .relaxed) }

    /// Runs `body` with OpenBLAS limited to one thread, then restores its thread count. For kernels that call BLAS
    /// from inside their own `parallelFor` workers: a threaded sgemm there would oversubscribe the cores (OpenBLAS's
    /// workers spin-wait while ours compute; measured 5× slower for the GSA forward on 2 cores).
    public static func withSingleThreadedBLAS<R>(_ body: () throws -> R) rethrows -> R {
        let n = openblas_get_num_threads()
        if n > 1 { openblas_set_num_threads(1) }
        defer { if n > 1 { openblas_set_num_threads(n) } }
        return try body()
    }

    /// A sentence when OPENBLAS_CORETYPE holds OpenBLAS to AVX2-era kernels on a CPU with AVX-512 (OpenBLAS
    /// would pick faster ones itself: 1.8× the sgemm rate on the machine of the README's figures); else nil.
    public static var coreTypeNote: String? {
        guard let forced = getenv("OPENBLAS_CORETYPE").map({ String(cString: $0) }), !forced.isEmpty,
              ["haswell", "zen", "sandybridge", "nehalem", "core2", "prescott", "barcelona", "bulldozer", "piledriver",
               "steamroller", "excavator"].contains(forced.lowercased()),
              let cpu = try? readTextFile("/proc/cpuinfo", limit: 1 << 22),
              let flags = cpu.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              flags.split(separator: " ").contains("avx512f") else { return nil }
        return "OPENBLAS_CORETYPE=\(forced) holds OpenBLAS to its \(forced) kernels on this AVX-512 CPU; without it OpenBLAS "
            + "picks its AVX-512 kernels (about 1.8x the sgemm rate on the README's machine): `env -u OPENBLAS_CORETYPE t2r …`"
    }

    /// OpenBLAS's build configuration and the kernel family it picked for this CPU.
    public static var blasDescription: String {
        let config = openblas_get_config().map { String(cString: $0) } ?? "?"
        let core = openblas_get_corename().map { String(cString: $0) } ?? "?"
        var spin = ""
        if let f = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "openblas_thread_timeout") {
            let t = unsafeBitCast(f, to: (@convention(c) () -> Int32).self)()
            spin = t > 0 ? ", idle workers spin 2^\(min(max(t, 4), 30)) cycles" : ", idle workers spin 2^28 cycles (the default)"
        }
        return "\(config) (core \(core), \(openblas_get_num_threads()) threads\(spin))"
    }
}

private final class WorkCounter: @unchecked Sendable {
    let next = Atomic<Int>(0)
}

/// Runs `body(i)` for i in 0..<n on the configured workers; iterations are handed out dynamically,
/// so uneven work balances. Runs inline when n ≤ 1 or one worker is configured.
public func parallelFor(_ n: Int, _ body: (Int) -> Void) {
    let workers = min(n, ComputeThreads.count)
    if workers <= 1 {
        for i in 0..<n { body(i) }
        return
    }
    let counter = WorkCounter()
    withoutActuallyEscaping(body) { body in
        // The caller guarantees that distinct iterations touch disjoint data.
        nonisolated(unsafe) let body = body
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let i = counter.next.add(1, ordering: .relaxed).oldValue
                if i >= n { break }
                body(i)
            }
        }
    }
}

/// Splits 0..<count into contiguous ranges of at least `minChunk` elements and runs `body` on
/// each in parallel (for elementwise kernels on flat buffers).
public func parallelRanges(_ count: Int, minChunk: Int = 16384, _ body: (Range<Int>) -> Void) {
    let workers = ComputeThreads.count
    let pieces = max(1, min(workers, count / max(minChunk, 1)))
    if pieces <= 1 {
        body(0..<count)
        return
    }
    let step = (count + pieces - 1) / pieces
    parallelFor(pieces) { p in
        let lo = p * step
        let hi = min(count, lo + step)
        if lo < hi { body(lo..<hi) }
    }
}

/// `parallelFor` for work items that call BLAS themselves: with several workers, OpenBLAS runs
/// single-threaded inside them (a threaded sgemm in each worker oversubscribes the cores); a single
/// item keeps BLAS's own threads.
public func parallelForCallingBLAS(_ n: Int, _ body: (Int) -> Void) {
    if n <= 1 || ComputeThreads.count <= 1 {
        for i in 0..<n { body(i) }
        return
    }
    ComputeThreads.withSingleThreadedBLAS { parallelFor(n, body) }
}
