// The answers of libhdf5 reader processes (HDF5Sandbox.swift), recorded in order and replayed in their
// place. Everything t2r does with an HDF5 file after libhdf5 has parsed it (decoding the answers, the
// dataset checks, KerasHub and flat layout detection, name mapping, config from a root attribute, data
// conversion, the handling of a reader that crashed, hung or left) depends only on these answers, so a
// replayed transcript drives that whole path in-process and without libhdf5: the `hdf5` fuzz target
// mutates transcripts recorded from the fixtures (tools/fuzz.sh), thousands a second, where a reader
// process per input allows tens. A replayed answer is untrusted exactly as a live reader's is.
//
// Scope: `HDF5Transcript.record { … }` records every answer of every HDF5File opened inside the closure;
// `HDF5Transcript.replay(t) { … }` answers every request of every HDF5File opened inside it from `t`, in
// order, whatever the request (a transcript that runs out answers like a reader that left).
import Foundation

/// Recorded answers of libhdf5 reader processes, in the order the requests were made.
public final class HDF5Transcript: @unchecked Sendable {
    /// What became of one request.
    public enum Answer: Equatable, Sendable {
        /// An answer in the wire format (HDF5Wire.swift), or a dataset's raw data.
        case encoded([UInt8])
        /// A typed error the reader met, in the wire format.
        case error([UInt8])
        /// The reader died by this signal.
        case crashed(signal: Int32)
        /// The reader ran past its deadline of this many seconds.
        case hung(seconds: Double)
        /// The reader exited with this status without answering.
        case exited(status: Int32)
    }

    /// The answers, in order.
    public private(set) var answers: [Answer]
    /// The next answer to replay.
    private var position = 0
    private let lock = NSLock()

    public init(answers: [Answer] = []) { self.answers = answers }

    /// The transcript HDF5 readers created in this scope replay (nil: they run reader processes).
    @TaskLocal static var replaying: HDF5Transcript?
    /// The transcript HDF5 readers created in this scope append their answers to.
    @TaskLocal static var recording: HDF5Transcript?

    /// Runs `body` with every HDF5File it opens answered from this transcript instead of reader processes.
    public func replay<R>(_ body: () throws -> R) rethrows -> R {
        try HDF5Transcript.$replaying.withValue(self) { try body() }
    }

    /// Runs `body` with every answer of the reader processes of the HDF5Files it opens appended to this transcript.
    public func record<R>(_ body: () throws -> R) rethrows -> R {
        try HDF5Transcript.$recording.withValue(self) { try body() }
    }

    /// The next answer to replay; nil once all are used.
    func next() -> Answer? {
        lock.lock()
        defer { lock.unlock() }
        guard position < answers.count else { return nil }
        position += 1
        return answers[position - 1]
    }

    func append(_ a: Answer) {
        lock.lock()
        defer { lock.unlock() }
        answers.append(a)
    }

    // MARK: Bytes

    /// The transcript as bytes: a count, then per answer a kind (0 encoded, 1 error, 2 crashed, 3 hung,
    /// 4 exited) and its payload, in HDF5Wire's little-endian, length-prefixed format.
    public var encoded: [UInt8] {
        var w = WireWriter()
        w.int(answers.count)
        for a in answers {
            switch a {
            case let .encoded(d): w.int(0); w.data(d)
            case let .error(d): w.int(1); w.data(d)
            case let .crashed(s): w.int(2); w.int(Int(s))
            case let .hung(t): w.int(3); w.double(t)
            case let .exited(c): w.int(4); w.int(Int(c))
            }
        }
        return w.bytes
    }

    /// Reads a transcript written by `encoded`; `file` names it in the error.
    public convenience init(decoding bytes: UnsafeRawBufferPointer, file: String) throws {
        var r = WireReader(bytes)
        func malformed(_ what: String) -> HDF5Error {
            .readFailed(file: file, object: what, operation: "decode",
                        detail: "expected a transcript of HDF5 reader answers (a count, then per answer a kind 0-4 and its payload)")
        }
        guard let count = try? r.count(minimumBytes: 16) else { throw malformed("the answer count") }
        var answers: [Answer] = []
        for i in 0..<count {
            do {
                switch try r.int() {
                case 0: answers.append(.encoded(try r.data()))
                case 1: answers.append(.error(try r.data()))
                case 2: answers.append(.crashed(signal: Int32(truncatingIfNeeded: try r.int())))
                case 3: answers.append(.hung(seconds: try r.double()))
                case 4: answers.append(.exited(status: Int32(truncatingIfNeeded: try r.int())))
                default: throw WireReader.Malformed()
                }
            } catch { throw malformed("answer \(i) of \(count)") }
        }
        guard r.atEnd else { throw malformed("the bytes after the \(count) answers") }
        self.init(answers: answers)
    }
}
