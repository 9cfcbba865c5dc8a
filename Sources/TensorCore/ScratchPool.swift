// Reusable scratch buffers for parallel kernels: a worker checks a buffer out, uses it, and returns
// it, so hot loops neither allocate nor page-fault fresh memory on every call.
import Synchronization

public final class ScratchPool: Sendable {
    /// Free buffers as (address, float count); addresses are plain integers so the list is Sendable.
    private let free = Mutex<[(UInt, Int)]>([])

    public init() {}

    deinit {
        free.withLock { list in
            for (a, _) in list { UnsafeMutableRawPointer(bitPattern: a)!.deallocate() }
        }
    }

    /// Runs `body` with a buffer of at least `count` floats (contents unspecified).
    public func with<R>(count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        let need = max(count, 16)
        var entry = free.withLock { list -> (UInt, Int)? in
            if let i = list.firstIndex(where: { $0.1 >= need }) { return list.remove(at: i) }
            return nil
        }
        if entry == nil {
            let raw = UnsafeMutableRawPointer.allocate(byteCount: need * 4, alignment: 64)
            entry = (UInt(bitPattern: raw), need)
        }
        let e = entry!
        defer { free.withLock { $0.append(e) } }
        let p = UnsafeMutableRawPointer(bitPattern: e.0)!.assumingMemoryBound(to: Float.self)
        return try body(p)
    }
}
