import Glibc
import TensorCore
import TestSupport
import Testing

@Suite struct AtomicFileTests {
    /// Bytes 0, 1, …, 250, 0, 1, … (a prime period, so misplaced blocks show).
    static func pattern(_ n: Int, shift: Int = 0) -> [UInt8] { (0..<n).map { UInt8(($0 + shift) % 251) } }

    // Sizes around the 4096-byte alignment and the 8 MiB staging buffer of direct I/O.
    @Test(arguments: [0, 1, 4095, 4096, 4097, (8 << 20) - 1, 8 << 20, (8 << 20) + 4097])
    func directIOWritesExactlyTheBytesGiven(size: Int) throws {
        let dir = Fixtures.temporaryDirectory()
        let path = FileSystem.join(dir, "direct.bin")
        let data = Self.pattern(size)
        let w = try AtomicFileWriter(path: path, directIO: true)
        // Several writes of uneven lengths, crossing staging boundaries.
        var off = 0, step = 1
        while off < data.count {
            let n = min(step, data.count - off)
            try data[off..<(off + n)].withUnsafeBytes { try w.write($0) }
            off += n
            step = step * 7 + 3
        }
        try w.commit()
        #expect(w.bytesWritten == size)
        #expect(try readFile(path) == data)
    }

    @Test(arguments: [false, true])
    func copiesAFileRange(directIO: Bool) throws {
        let dir = Fixtures.temporaryDirectory()
        let src = FileSystem.join(dir, "src.bin"), dst = FileSystem.join(dir, "dst.bin")
        let source = Self.pattern((9 << 20) + 123, shift: 7)
        try writeFileAtomically(src, bytes: source)
        let fd = open(src, O_RDONLY)
        defer { close(fd) }
        let w = try AtomicFileWriter(path: dst, directIO: directIO)
        try w.write([1, 2, 3])
        try w.write(copyingFrom: fd, offset: 5, count: source.count - 10, sourcePath: src)
        try w.commit()
        #expect(try readFile(dst) == [1, 2, 3] + Array(source[5..<(source.count - 5)]))
    }

    @Test func copyingPastTheEndOfTheSourceFails() throws {
        let dir = Fixtures.temporaryDirectory()
        let src = FileSystem.join(dir, "short.bin")
        try writeFileAtomically(src, bytes: Self.pattern(100))
        let fd = open(src, O_RDONLY)
        defer { close(fd) }
        let w = try AtomicFileWriter(path: FileSystem.join(dir, "out.bin"), directIO: true)
        #expect(throws: IOFailure.self) { try w.write(copyingFrom: fd, offset: 50, count: 60, sourcePath: src) }
        w.abandon()
        #expect(!FileSystem.exists(FileSystem.join(dir, "out.bin")))
    }
}
