// A child process the test controls while it runs (signals at chosen moments, then its exit), for the
// crash-safety tests of long commands. Output goes to files, so a killed child cannot block on a pipe.
import Glibc
import TensorCore

/// A running (or finished) child process started with posix_spawn.
public final class ChildProcess {
    /// The child's process id.
    public let pid: pid_t
    /// Files receiving its stdout and stderr.
    public let stdoutPath: String
    public let stderrPath: String
    private var status: Int32?

    /// Starts `executable args…` with stdout and stderr written to `outputPrefix`.out / .err.
    public init(_ executable: String, _ args: [String], outputPrefix: String) throws {
        stdoutPath = outputPrefix + ".out"
        stderrPath = outputPrefix + ".err"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // The test runner's threads may block or ignore signals; the child starts with none blocked and
        // the default action for the ones the tests send.
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var none = sigset_t(), defaults = sigset_t()
        sigemptyset(&none)
        sigemptyset(&defaults)
        for sig in [SIGINT, SIGTERM, SIGPIPE, SIGXFSZ] { sigaddset(&defaults, sig) }
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([executable] + args).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, &attr, argv, environ)
        if rc != 0 { throw IOFailure(path: executable, operation: "start", reason: String(cString: strerror(rc))) }
        pid = child
    }

    /// Sends `signal` (if the child has not been reaped yet).
    public func send(_ signal: Int32) {
        if status == nil { kill(pid, signal) }
    }

    /// True while the child runs.
    public var isRunning: Bool {
        if status != nil { return false }
        var s: Int32 = 0
        if waitpid(pid, &s, WNOHANG) == pid {
            status = s
            return false
        }
        return true
    }

    /// Waits for the child; returns its exit code, or 128 + the signal that ended it.
    @discardableResult
    public func wait() -> Int32 {
        if status == nil {
            var s: Int32 = 0
            while waitpid(pid, &s, 0) < 0 && errno == EINTR {}
            status = s
        }
        let s = status!
        let signal = s & 0x7F
        return signal == 0 ? (s >> 8) & 0xFF : 128 + signal
    }

    /// What the child wrote to stdout so far.
    public var stdout: String { (try? readTextFile(stdoutPath)) ?? "" }
    /// What the child wrote to stderr so far.
    public var stderr: String { (try? readTextFile(stderrPath)) ?? "" }
}

/// Sleeps for `seconds`.
public func sleepSeconds(_ seconds: Double) {
    var t = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
    var rest = timespec()
    while nanosleep(&t, &rest) != 0 && errno == EINTR { t = rest }
}
