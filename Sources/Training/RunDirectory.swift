// Crash safety of a run directory: one trainer at a time (a record lock the kernel releases when the
// process dies, even by SIGKILL), leftovers of a killed checkpoint write removed, metrics.jsonl cut back to what a
// checkpoint had seen (so a kill and --resume, or a rollback, leave no duplicate or torn lines), and
// final/ written under a temporary name and renamed into place.
import Glibc
import TensorCore

/// A run directory held by this process for the duration of a training run.
final class RunDirectory {
    let path: String
    private var lockFD: Int32

    /// Creates `path` if needed and takes its lock; throws `TrainingError.runDirectoryBusy` when another
    /// process trains into the same directory.
    init(_ path: String) throws {
        self.path = path
        try FileSystem.createDirectory(path)
        let lockPath = FileSystem.join(path, ".lock")
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        if fd < 0 { throw IOFailure(path: lockPath, operation: "open the run lock", reason: String(cString: strerror(errno))) }
        // A POSIX record lock (lockf), not flock: a child forked by this process (the HDF5 reader's
        // sandbox) does not inherit it, so the lock ends exactly when this trainer lets go of it.
        if lockf(fd, F_TLOCK, 0) != 0 {
            let e = errno
            close(fd)
            if e == EACCES || e == EAGAIN { throw TrainingError.runDirectoryBusy(runDir: path) }
            throw IOFailure(path: lockPath, operation: "lock the run directory", reason: String(cString: strerror(e)))
        }
        lockFD = fd
        removeStaleTemporaries()
    }

    /// Releases the lock (the trainer does so when its run returns; deinit would be too late or too early
    /// to rely on, since a local's lifetime ends at its last use).
    func unlock() {
        if lockFD >= 0 { close(lockFD) }
        lockFD = -1
    }

    deinit { unlock() }

    var metricsPath: String { FileSystem.join(path, "metrics.jsonl") }

    /// Removes what a killed process left half-written: `checkpoints/.step-*.tmp-*` directories, temporary
    /// files of atomic writes, and `final.tmp-*`.
    func removeStaleTemporaries() {
        let checkpoints = FileSystem.join(path, "checkpoints")
        for n in (try? FileSystem.listDirectory(checkpoints)) ?? [] where n.hasPrefix(".step-") && n.contains(".tmp-") {
            removeTree(FileSystem.join(checkpoints, n))
        }
        let ours = ["final.tmp-", "metrics.jsonl.tmp-", "recipe.json.tmp-"]
        for n in (try? FileSystem.listDirectory(path)) ?? [] where ours.contains(where: { n.hasPrefix($0) }) {
            removeTree(FileSystem.join(path, n))
        }
    }

    /// The current length of metrics.jsonl in bytes (0 when absent).
    func metricsLength() -> Int { FileSystem.fileSize(metricsPath) ?? 0 }

    /// Cuts metrics.jsonl back to its first `length` bytes: the lines written up to a checkpoint. Lines
    /// written after it (by the run that was killed or rolled back) would otherwise repeat. With
    /// `keepingRollbacks`, the `rollback` lines after the cut are kept (a second rollback to the same
    /// checkpoint must not erase the record of the first).
    func truncateMetrics(to length: Int, keepingRollbacks: Bool = false) throws {
        guard let size = FileSystem.fileSize(metricsPath), size > length else { return }
        var kept: [UInt8] = []
        if keepingRollbacks {
            let tail = try readFile(metricsPath).dropFirst(length)
            for line in tail.split(separator: UInt8(ascii: "\n")) where (try? JSONParser.parse(Array(line)))?["rollback"] != nil {
                kept += line + [UInt8(ascii: "\n")]
            }
        }
        if truncate(metricsPath, off_t(length)) != 0 {
            throw IOFailure(path: metricsPath, operation: "cut back to the checkpoint's \(length) bytes", reason: String(cString: strerror(errno)))
        }
        if !kept.isEmpty { try MetricsLog(path: metricsPath).append(bytes: kept) }
    }

    /// Writes final/ by calling `write` on a temporary directory, then renames it over final/.
    func writeFinal(_ write: (String) throws -> Void) throws -> String {
        let final = FileSystem.join(path, "final")
        let tmp = FileSystem.join(path, "final.tmp-\(getpid())")
        removeTree(tmp)
        do {
            try FileSystem.createDirectory(tmp)
            try write(tmp)
        } catch {
            removeTree(tmp)
            throw error
        }
        removeTree(final)
        if rename(tmp, final) != 0 {
            let reason = String(cString: strerror(errno))
            removeTree(tmp)
            throw IOFailure(path: final, operation: "rename the final student into place", reason: reason)
        }
        syncDirectory(of: final)
        return final
    }
}
