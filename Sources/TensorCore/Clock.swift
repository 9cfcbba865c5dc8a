// A monotonic clock for deadlines and timings (never jumps with the wall clock).
import Glibc

/// Seconds on the monotonic clock (CLOCK_MONOTONIC), for differences only.
public func monotonicNow() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}
