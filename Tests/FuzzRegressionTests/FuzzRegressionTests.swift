// Replays what the fuzzers found (Tests/Fixtures/fuzz/findings.json) and the seed corpora through the
// fuzz drivers: each finding must now be refused with its typed error, and no seed or fixture may crash
// or throw an untyped error.
import TensorCore
import TestSupport
import Testing

struct Finding: Sendable, CustomStringConvertible {
    let target: FuzzTarget
    let file: String
    let found: String
    /// Parts of the typed error t2r gives, any one of which must appear (libhdf5 on a corrupt file does not
    /// always fail the same way).
    let expect: [String]
    /// "cli": replayed by a CLI test instead (a hang, checked with a short T2R_HDF5_TIMEOUT in the child).
    let replay: String?
    var description: String { "\(target.rawValue): \(file)" }

    /// Every entry of Tests/Fixtures/fuzz/findings.json.
    static let all: [Finding] = {
        guard let bytes = try? readFile(Fixtures.fixture("fuzz/findings.json")), let json = try? JSONParser.parse(bytes),
              let list = json["findings"]?.arrayValue else { return [] }
        return list.compactMap { f in
            guard let t = f["target"]?.stringValue.flatMap(FuzzTarget.init(rawValue:)), let file = f["file"]?.stringValue,
                  let found = f["found"]?.stringValue,
                  let expect = f["expect"]?.stringValue.map({ [$0] }) ?? f["expect"]?.arrayValue?.compactMap(\.stringValue),
                  !expect.isEmpty else { return nil }
            return Finding(target: t, file: file, found: found, expect: expect, replay: f["replay"]?.stringValue)
        }
    }()
}

/// Runs `target` on the file at `path` in a fresh scratch directory.
func replay(_ target: FuzzTarget, _ path: String) throws -> [Error] {
    let scratch = Fixtures.temporaryDirectory("t2r-fuzz-replay")
    return target.run(try readFile(path), scratch: scratch)
}

@Suite struct FuzzRegressionTests {
    @Test func theManifestListsEveryFindingFile() throws {
        #expect(!Finding.all.isEmpty, "Tests/Fixtures/fuzz/findings.json is missing or malformed")
        let listed = Set(Finding.all.map(\.file))
        for t in FuzzTarget.allCases {
            let dir = Fixtures.fixture("fuzz/\(t.rawValue)")
            for n in (try? FileSystem.listDirectory(dir)) ?? [] {
                #expect(listed.contains("\(t.rawValue)/\(n)"), "Tests/Fixtures/fuzz/\(t.rawValue)/\(n) is not in findings.json")
            }
        }
        for f in Finding.all { #expect(FileSystem.exists(Fixtures.fixture("fuzz/\(f.file)")), "\(f.file) is listed but missing") }
    }

    @Test(arguments: Finding.all.filter { $0.replay == nil })
    func findingIsRefusedWithATypedError(_ f: Finding) throws {
        let errors = try replay(f.target, Fixtures.fixture("fuzz/\(f.file)"))
        for e in errors { #expect(isTypedReaderError(e), "untyped \(type(of: e)): \(e)") }
        #expect(errors.contains { e in f.expect.contains { "\(e)".contains($0) } },
                "expected an error containing one of \(f.expect); got \(errors.map { "\($0)" })")
    }

    /// The seeds the fuzzers start from (Tests/Fixtures/fuzz/seeds/TARGET) run cleanly: typed errors only.
    @Test(arguments: FuzzTarget.allCases)
    func seedsRunCleanly(_ target: FuzzTarget) throws {
        let dir = Fixtures.fixture("fuzz/seeds/\(target.rawValue)")
        let files = (try? FileSystem.listDirectory(dir)) ?? []
        // hdf5: transcripts recorded from the fixtures when fuzzing starts (hdf5TranscriptsReplayLikeTheReaders).
        #expect(!files.isEmpty || [.safetensors, .shardedIndex, .recipe, .hdf5, .hdf5Raw].contains(target), "no seeds in \(dir)")
        for n in files {
            for e in try replay(target, FileSystem.join(dir, n)) { #expect(isTypedReaderError(e), "\(n): untyped \(type(of: e)): \(e)") }
        }
    }

    /// A valid seed of each structured format reaches the end of its driver without any error.
    @Test func validSeedsAreAccepted() throws {
        for (target, file) in [(FuzzTarget.gguf, "gguf/tiny-llama-sp.gguf"), (.gguf, "gguf/tiny-llama-bytelevel.gguf"),
                               (.sentencepiece, "sentencepiece/toy-300.model"), (.tokenizerJSON, "tokenizer-json/bytelevel.json")] {
            let errors = try replay(target, Fixtures.fixture("fuzz/seeds/\(file)"))
            #expect(errors.isEmpty, "\(file): \(errors.map { "\($0)" })")
        }
    }

    /// The `hdf5` target's seeds: what the reader processes answered for every HDF5 fixture and structure
    /// description, recorded, replays in-process to exactly the errors (and, for valid files, none) the
    /// reader processes gave.
    @Test func hdf5TranscriptsReplayLikeTheReaders() throws {
        let scratch = Fixtures.temporaryDirectory("t2r-hdf5-transcripts")
        let seeds = FuzzDrivers.hdf5Seeds(scratch: scratch, includeFindings: false)
        #expect(seeds.count >= 20, "\(seeds.map(\.name))")
        for s in seeds {
            let replayed = FuzzTarget.hdf5.run(s.input, scratch: scratch).map { "\($0)" }
            #expect(replayed == s.errors, "\(s.name)")
        }
        for valid in ["hdf5/keras/mistral/model.weights.h5", "hdf5/keras/llama-tied/model.weights.h5", "hdf5/flat/beside/model.h5",
                      "hdf5/flat/standalone/root-bf16.h5", "fuzz/seeds/hdf5-descriptions/flat-root-bf16.txt"] {
            let s = try #require(seeds.first { $0.name == valid }, "no seed for \(valid)")
            #expect(s.errors.isEmpty, "\(valid): \(s.errors)")
        }
    }
}
