// Read-only memory mapping of a whole file (Glibc mmap). Readers validate every offset against
// `count` before touching the bytes.
import Glibc
import TensorCore

public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let count: Int
    private let base: UnsafeRawPointer?

    /// Maps `path` read-only. A zero-length file maps to an empty buffer.
    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw IOFailure(path: path, operation: "open", reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw IOFailure(path: path, operation: "stat", reason: String(cString: strerror(errno))) }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            throw IOFailure(path: path, operation: "read", reason: "it is a directory")
        }
        count = Int(st.st_size)
        if count == 0 {
            base = nil
            return
        }
        let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0)
        if p == MAP_FAILED || p == nil {
            throw IOFailure(path: path, operation: "mmap", reason: String(cString: strerror(errno)))
        }
        base = UnsafeRawPointer(p!)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }

    /// The mapped bytes.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Tells the kernel the range will be read sequentially soon (read-ahead for streaming).
    public func adviseSequential(offset: Int, length: Int) {
        guard let base, length > 0 else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (offset / page) * page
        _ = madvise(UnsafeMutableRawPointer(mutating: base + start), min(count - start, length + offset - start),
                    MADV_WILLNEED)
    }

    /// Releases the pages of a range already consumed, so streaming a large file keeps RSS flat.
    public func adviseDone(offset: Int, length: Int) {
        guard let base, length > 0 else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = ((offset + page - 1) / page) * page
        let end = ((offset + length) / page) * page
        if end > start { _ = madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED) }
    }
}
