// fork() without stalling BLAS. OpenBLAS registers a pthread_atfork handler that shuts its thread pool
// down before every fork; an sgemm in flight on another thread then waits forever for workers that are
// gone (seen as a hung test run when the HDF5 reader forked its child process while another test
// multiplied matrices). So BLAS calls announce themselves (`withBLAS`), and `fork` waits until none is
// in flight and holds new ones back until the child exists. The cost is two atomic operations per BLAS
// call.
import Glibc
import Synchronization

public enum ProcessFork {
    private static let inFlight = Atomic<Int>(0)
    private static let forking = Atomic<Bool>(false)
    private static let forkLock = Mutex<Void>(())

    /// Runs `body` (a BLAS call) so that no `fork` happens while it runs.
    @inline(__always)
    public static func withBLAS<R>(_ body: () throws -> R) rethrows -> R {
        while true {
            inFlight.add(1, ordering: .sequentiallyConsistent)
            if !forking.load(ordering: .sequentiallyConsistent) { break }
            // A fork is under way: step back and let it finish.
            inFlight.subtract(1, ordering: .sequentiallyConsistent)
            while forking.load(ordering: .sequentiallyConsistent) { sched_yield() }
        }
        defer { inFlight.subtract(1, ordering: .sequentiallyConsistent) }
        return try body()
    }

    /// fork(2), once no BLAS call is in flight in this process. Returns what fork returns.
    public static func fork() -> pid_t {
        forkLock.withLock { _ in
            forking.store(true, ordering: .sequentiallyConsistent)
            defer { forking.store(false, ordering: .sequentiallyConsistent) }
            while inFlight.load(ordering: .sequentiallyConsistent) > 0 { sched_yield() }
            return Glibc.fork()
        }
    }
}
