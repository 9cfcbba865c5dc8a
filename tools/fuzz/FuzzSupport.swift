// Shared pieces of the libFuzzer harnesses (tools/fuzz/*.swift, built by tools/fuzz.sh): a private
// scratch directory for the file-based readers, and helpers that drive a reader the way the CLI does.
// Not part of the package build.
import Glibc
import TensorCore

/// A per-process scratch directory on tmpfs (files are rewritten on every input).
enum Scratch {
    static let root: String = {
        let base = FileSystem.isDirectory("/dev/shm") ? "/dev/shm" : "/tmp"
        let p = "\(base)/t2r-fuzz-\(getpid())"
        try? FileSystem.createDirectory(p)
        atexit { removeScratch() }
        return p
    }()

    /// Writes `data` to `root/name` (plain write, no fsync: speed matters here) and returns the path.
    static func write(_ name: String, _ data: UnsafeRawBufferPointer) -> String {
        let path = root + "/" + name
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        precondition(fd >= 0, "cannot write \(path)")
        var off = 0
        while off < data.count {
            let n = Glibc.write(fd, data.baseAddress! + off, data.count - off)
            precondition(n > 0, "short write to \(path)")
            off += n
        }
        close(fd)
        return path
    }

    /// Removes `root/name` if present.
    static func remove(_ name: String) { unlink(root + "/" + name) }

    /// Copies a file into the scratch directory (for fixed companions such as shards).
    static func copy(_ source: String, as name: String) {
        guard let bytes = try? readFile(source) else { fatalError("fuzz harness: cannot read \(source)") }
        _ = bytes.withUnsafeBytes { write(name, $0) }
    }
}

private func removeScratch() {
    let root = Scratch.root
    for n in (try? FileSystem.listDirectory(root)) ?? [] { unlink(root + "/" + n) }
    rmdir(root)
}

/// The fuzz input as a buffer.
@inline(__always) func input(_ data: UnsafePointer<UInt8>, _ size: Int) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: data, count: size)
}

/// Runs `body`, accepting any thrown error: a reader may refuse an input, it may not crash on it.
/// Errors must be typed T2R errors (or the few JSON/IO ones); anything else is a finding.
@inline(__always) func expectTypedErrors(_ body: () throws -> Void) {
    do { try body() } catch let e as T2RError {
        _ = e.description  // building the message must not crash either
    } catch let e as JSONParseError {
        _ = e.description
    } catch {
        fatalError("untyped error escaped a reader: \(type(of: error)): \(error)")
    }
}

/// The value `open` returns, or nil when it throws a typed error (the input was refused).
@inline(__always) func opened<T>(_ open: () throws -> T) -> T? {
    var value: T?
    expectTypedErrors { value = try open() }
    return value
}

/// The repository root (two levels above this file).
let repoRoot: String = {
    var p = #filePath
    for _ in 0..<3 { p = FileSystem.directoryName(p) }
    return p
}()

/// Text every fuzzed tokenizer encodes: ASCII words, digits, runs of spaces, newlines, Latin-1, CJK, an
/// emoji, a combining mark, control characters and special-token look-alikes.
let probeText = "Hello world!  It's 2024: 3.14159 ==> done.\n\tTabs\u{00A0}and é, e\u{0301}, 漢字, 😀, \u{0}\u{7F} <s></s><unk> ▁x"
