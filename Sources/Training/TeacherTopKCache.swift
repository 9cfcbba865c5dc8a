// The teacher's top-k logits of each stage-2 micro-batch, kept on disk (`teacher_cache`, with
// `loss.top_k`), as mlx-lm's DWQ stores its distillation targets (`--target-dir`: top-1024 logits and
// indices per batch): the teacher's forward pass and LM head —
// about a third of a stage-2 step — run once per batch of tokens, however many runs, resumes or epochs
// see it again.
//
// Layout of the directory:
//   cache.json          {"format": "t2r teacher top-k logits", "version": 1, "teacher": path,
//                        "teacher_fingerprint": hex, "vocab_size": V, "top_k": k}
//   <hash>.topk         one micro-batch, named by a 64-bit hash of its input tokens:
//                       "T2RTOPK1", k u32, rows u32, fingerprint u64, tokens u32[rows],
//                       indices i32[rows·k] (best first), logits f32[rows·k]; little-endian.
// The fingerprint hashes the teacher's configuration and every weight, so a cache never serves another
// teacher's targets; each file repeats its tokens, so a hash collision cannot either. Files are written
// atomically (temporary file, then rename).
import Models
import TensorCore

/// A directory of cached top-k teacher targets.
public final class TeacherTopKCache: @unchecked Sendable {
    public let directory: String
    public let k: Int
    public let vocabSize: Int
    public let fingerprint: UInt64
    /// Batches read from the cache / computed and written by this process.
    public private(set) var hits = 0, misses = 0

    static let magic = Array("T2RTOPK1".utf8)
    static let headerBytes = 24

    /// Opens (or creates) the cache at `directory` for `teacher` (loaded from `teacherPath`) and `k`.
    public init(directory: String, teacherPath: String, teacher: TeacherModel, k: Int) throws {
        let v = teacher.config.vocabSize
        guard k >= 1 && k <= v else {
            throw TrainingError.teacherCache(path: directory, detail: "loss.top_k = \(k) must be between 1 and the vocabulary size \(v)")
        }
        self.directory = directory
        self.k = k
        self.vocabSize = v
        self.fingerprint = Self.fingerprint(teacher)
        let meta = FileSystem.join(directory, "cache.json")
        let expected = JSONValue.object([
            ("format", .string("t2r teacher top-k logits")), ("version", .int(1)), ("teacher", .string(teacherPath)),
            ("teacher_fingerprint", .string(Self.hex(fingerprint))), ("vocab_size", .int(v)), ("top_k", .int(k)),
        ])
        if FileSystem.exists(meta) {
            let found: JSONValue
            do { found = try JSONParser.parse(try readFile(meta, limit: FileLimits.json)) } catch {
                throw TrainingError.teacherCache(path: meta, detail: "not a teacher cache description: \(error)")
            }
            guard found["format"]?.stringValue == "t2r teacher top-k logits", found["version"]?.intValue == 1 else {
                throw TrainingError.teacherCache(path: meta, detail: "not a t2r teacher cache of version 1")
            }
            if found["teacher_fingerprint"]?.stringValue != Self.hex(fingerprint) {
                throw TrainingError.teacherCache(path: directory, detail: "it holds the logits of another teacher ("
                    + "\(found["teacher"]?.stringValue ?? "?"), fingerprint \(found["teacher_fingerprint"]?.stringValue ?? "?"); this teacher's is "
                    + "\(Self.hex(fingerprint))): choose another teacher_cache directory or delete this one")
            }
            if found["top_k"]?.intValue != k || found["vocab_size"]?.intValue != v {
                throw TrainingError.teacherCache(path: directory, detail: "it holds the top-\(found["top_k"]?.intValue ?? 0) logits, "
                    + "the recipe asks for loss.top_k = \(k): choose another teacher_cache directory or delete this one")
            }
        } else {
            if FileSystem.isDirectory(directory), !(try FileSystem.listDirectory(directory)).isEmpty {
                throw TrainingError.teacherCache(path: directory, detail: "the directory is not empty and has no cache.json: it is not a teacher cache")
            }
            try FileSystem.createDirectory(directory)
            try writeFileAtomically(meta, text: expected.serialized(indent: 2) + "\n")
        }
    }

    /// The file of the micro-batch with input tokens `tokens`.
    public func path(for tokens: [Int]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for t in tokens { h = Self.mix(h, UInt64(UInt32(truncatingIfNeeded: t))) }
        h = Self.mix(h, UInt64(tokens.count))
        return FileSystem.join(directory, Self.hex(h) + ".topk")
    }

    /// Reads the targets of `tokens` into `indices` / `values` (tokens.count · k each); false when the batch
    /// is not cached yet. A file that does not hold exactly this batch's targets is an error.
    public func load(tokens: [Int], indices: UnsafeMutablePointer<Int32>, values: UnsafeMutablePointer<Float>) throws -> Bool {
        let p = path(for: tokens)
        guard FileSystem.exists(p) else { return false }
        let rows = tokens.count, expectedSize = Self.headerBytes + 4 * rows + 8 * rows * k
        guard let size = FileSystem.fileSize(p), size == expectedSize else {
            throw TrainingError.teacherCache(path: p, detail: "\(FileSystem.fileSize(p) ?? 0) bytes, expected \(expectedSize) "
                + "(\(rows) rows of the top-\(k) logits): delete the file (it is recomputed)")
        }
        let bytes = try readFile(p, limit: expectedSize)
        try bytes.withUnsafeBytes { raw in
            func u32(_ o: Int) -> UInt32 { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt32.self)) }
            guard Array(raw[0..<8]) == Self.magic else { throw TrainingError.teacherCache(path: p, detail: "not a t2r top-k file (bad magic)") }
            guard Int(u32(8)) == k, Int(u32(12)) == rows else {
                throw TrainingError.teacherCache(path: p, detail: "holds \(u32(12)) rows of the top-\(u32(8)) logits, expected \(rows) rows of the top-\(k)")
            }
            guard UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)) == fingerprint else {
                throw TrainingError.teacherCache(path: p, detail: "written for another teacher (its fingerprint differs)")
            }
            for (i, t) in tokens.enumerated() where Int(u32(Self.headerBytes + 4 * i)) != t {
                throw TrainingError.teacherCache(path: p, detail: "written for other tokens (position \(i) holds \(u32(Self.headerBytes + 4 * i)), the batch has \(t))")
            }
            let idxOffset = Self.headerBytes + 4 * rows, valOffset = idxOffset + 4 * rows * k
            for i in 0..<(rows * k) {
                let idx = Int32(bitPattern: u32(idxOffset + 4 * i))
                guard idx >= 0 && Int(idx) < vocabSize else {
                    throw TrainingError.teacherCache(path: p, detail: "token index \(idx) at entry \(i) is outside the vocabulary of \(vocabSize)")
                }
                indices[i] = idx
                values[i] = Float(bitPattern: u32(valOffset + 4 * i))
            }
        }
        hits += 1
        return true
    }

    /// Writes the targets of `tokens` (tokens.count · k indices and values).
    public func store(tokens: [Int], indices: UnsafePointer<Int32>, values: UnsafePointer<Float>) throws {
        let rows = tokens.count
        var out = Self.magic
        out.reserveCapacity(Self.headerBytes + 4 * rows + 8 * rows * k)
        func put32(_ x: UInt32) { withUnsafeBytes(of: x.littleEndian) { out.append(contentsOf: $0) } }
        put32(UInt32(k))
        put32(UInt32(rows))
        withUnsafeBytes(of: fingerprint.littleEndian) { out.append(contentsOf: $0) }
        for t in tokens { put32(UInt32(truncatingIfNeeded: t)) }
        for i in 0..<(rows * k) { put32(UInt32(bitPattern: indices[i])) }
        for i in 0..<(rows * k) { put32(values[i].bitPattern) }
        try writeFileAtomically(path(for: tokens), bytes: out)
        misses += 1
    }

    /// A 64-bit hash of the teacher's configuration and every weight's bits.
    public static func fingerprint(_ teacher: TeacherModel) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in String(describing: teacher.config).utf8 { h = mix(h, UInt64(b)) }
        let w = teacher.weights
        var tensors = [w.embedTokens]
        for l in w.layers { tensors += [l.inputNorm, l.qkv, l.o, l.postAttentionNorm, l.gateUp, l.down] }
        tensors += [w.finalNorm, w.lmHead]
        for t in tensors {
            h = mix(h, UInt64(t.count))
            let raw = UnsafeRawPointer(t.pointer)
            var i = 0
            while i + 2 <= t.count {
                h = mix(h, raw.loadUnaligned(fromByteOffset: i * 4, as: UInt64.self))
                i += 2
            }
            if i < t.count { h = mix(h, UInt64(t.pointer[i].bitPattern)) }
        }
        return h
    }

    @inline(__always) static func mix(_ h: UInt64, _ x: UInt64) -> UInt64 {
        var z = (h ^ x) &* 0x9E37_79B9_7F4A_7C15
        z ^= z >> 31
        return z
    }

    static func hex(_ x: UInt64) -> String {
        let s = String(x, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
