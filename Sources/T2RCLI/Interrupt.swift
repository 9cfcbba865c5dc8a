// SIGINT/SIGTERM handling for long commands: the first Ctrl-C (or the SIGTERM a scheduler sends before it
// kills a job) asks the running command to stop cleanly (a training run writes a checkpoint first); a
// second one exits at once.
import Glibc
import Synchronization

enum Interrupt {
    private static let requested = Atomic<Int>(0)

    /// Installs the handler.
    static func install() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig) { s in
                if Interrupt.requested.add(1, ordering: .relaxed).oldValue >= 1 { _exit(128 + s) }
            }
        }
    }

    static var isRequested: Bool { requested.load(ordering: .relaxed) > 0 }
}
