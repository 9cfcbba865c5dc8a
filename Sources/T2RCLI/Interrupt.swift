// SIGINT handling for long commands: the first Ctrl-C asks the running command to stop cleanly (a
// training run writes a checkpoint first); a second one exits at once.
import Glibc
import Synchronization

enum Interrupt {
    private static let requested = Atomic<Int>(0)

    /// Installs the handler.
    static func install() {
        signal(SIGINT) { _ in
            if Interrupt.requested.add(1, ordering: .relaxed).oldValue >= 1 { _exit(130) }
        }
    }

    static var isRequested: Bool { requested.load(ordering: .relaxed) > 0 }
}
