import CheckpointIO
import Glibc
import TensorCore
import TestSupport
import Testing

/// Tests/Fixtures/hdf5/raw/types.h5 (tools/fixtures/make_hdf5_fixtures.py `write_raw`).
private let types = Fixtures.fixture("hdf5/raw/types.h5")

/// Records the answers for: open `types`, read f64, read f16.
private func recordTypes() throws -> (HDF5Transcript, [[Float]]) {
    let t = HDF5Transcript()
    let values = try t.record {
        let f = try HDF5File(path: types)
        return [try f.loadFloat32("f64").toArray(), try f.loadFloat32("f16").toArray()]
    }
    return (t, values)
}

/// Replays `t` for the same path and requests.
private func replayTypes(_ t: HDF5Transcript, path: String = types) throws -> [[Float]] {
    try t.replay {
        let f = try HDF5File(path: path)
        return [try f.loadFloat32("f64").toArray(), try f.loadFloat32("f16").toArray()]
    }
}

@Suite struct HDF5TranscriptTests {
    @Test func aRecordedTranscriptReplaysWithoutReaders() throws {
        let (t, values) = try recordTypes()
        #expect(t.answers.count == 3)  // structure, two reads
        #expect(values == [[0.5, -1.25, 3.0], [1.0, -0.5, 65504.0, 0x1p-24]])
        // Through the bytes and back: the same answers, the same tensors.
        let decoded = try t.encoded.withUnsafeBytes { try HDF5Transcript(decoding: $0, file: "t") }
        #expect(decoded.answers == t.answers)
        #expect(try replayTypes(decoded) == values)
    }

    @Test func replayedReaderFailuresAreTypedErrors() throws {
        let (t, _) = try recordTypes()
        let crashed = HDF5Transcript(answers: [t.answers[0], .crashed(signal: SIGSEGV)])
        #expect(throws: HDF5Error.libraryCrashed(file: types, object: "f64", operation: "read dataset",
                                                 signal: "SIGSEGV, a bad memory access")) { try replayTypes(crashed) }
        let hung = HDF5Transcript(answers: [t.answers[0], .hung(seconds: 4)])
        #expect(throws: HDF5Error.libraryHung(file: types, object: "f64", operation: "read dataset", seconds: 4)) { try replayTypes(hung) }
        let exited = HDF5Transcript(answers: [t.answers[0], t.answers[1], .exited(status: 3)])
        #expect(throws: HDF5Error.readFailed(file: types, object: "f16", operation: "read dataset",
                                             detail: "the libhdf5 reader process exited (status 3) without answering")) { try replayTypes(exited) }
        // A transcript that runs out answers like a reader that left.
        #expect(throws: HDF5Error.readFailed(file: types, object: "f64", operation: "read dataset",
                                             detail: "the libhdf5 reader process left without answering")) {
            try replayTypes(HDF5Transcript(answers: [t.answers[0]]))
        }
    }

    @Test func malformedAnswersAreTypedErrors() throws {
        let (t, _) = try recordTypes()
        // The f64 data cut short, and a garbage structure answer.
        guard case let .encoded(data) = t.answers[1] else { Issue.record("not data: \(t.answers[1])"); return }
        let short = HDF5Transcript(answers: [t.answers[0], .encoded(Array(data.dropLast()))])
        #expect(throws: HDF5Error.readFailed(file: types, object: "f64", operation: "read dataset",
                                             detail: "the libhdf5 reader process handed back 11 bytes, not 12")) { try replayTypes(short) }
        #expect(throws: HDF5Error.readFailed(file: types, object: "/", operation: "read the structure of",
                                             detail: "the libhdf5 reader process handed back a malformed answer")) {
            try replayTypes(HDF5Transcript(answers: [.encoded([1, 2, 3])]))
        }
        func decodeError(_ object: String) -> HDF5Error {
            .readFailed(file: "t", object: object, operation: "decode",
                        detail: "expected a transcript of HDF5 reader answers (a count, then per answer a kind 0-4 and its payload)")
        }
        #expect(throws: decodeError("the answer count")) {
            try [UInt8]([1, 0, 0]).withUnsafeBytes { try HDF5Transcript(decoding: $0, file: "t") }
        }
        #expect(throws: decodeError("the bytes after the 3 answers")) {
            try (t.encoded + [0]).withUnsafeBytes { try HDF5Transcript(decoding: $0, file: "t") }
        }
        #expect(throws: decodeError("answer 2 of 3")) {
            try t.encoded.dropLast().withUnsafeBytes { try HDF5Transcript(decoding: $0, file: "t") }
        }
    }

    /// No dataset can store more bytes than its file has: a reader claiming so is not believed (and nothing
    /// is allocated for it).
    @Test func storedBytesBeyondTheFileAreRefused() throws {
        let (t, _) = try recordTypes()
        let dir = Fixtures.temporaryDirectory("t2r-hdf5-transcript")
        let small = FileSystem.join(dir, "small.h5")
        try writeFileAtomically(small, bytes: [UInt8](repeating: 0, count: 10))
        #expect(throws: HDF5Error.invalidDataset(file: small, dataset: "f64",
                                                 detail: "it claims 24 stored bytes, more than the whole file (10 bytes)")) {
            try replayTypes(t, path: small)
        }
    }
}
