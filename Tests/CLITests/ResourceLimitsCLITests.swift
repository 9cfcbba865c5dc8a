// Work that cannot fit in memory is refused before anything is allocated, with the estimate in the
// message (T2R_MEMORY_LIMIT stands in for a small machine).
import Foundation
import TensorCore
import TestSupport
import Testing

@Suite struct ResourceLimitsCLITests {
    @Test func modelThatDoesNotFitIsRefusedWithTheEstimate() throws {
        let setup = try DistillSetup(steps: 4, checkpointEvery: 0)
        defer { setup.remove() }
        let r = try runProcess(T2RBinary.path, setup.args("\(setup.dir)/run"), environment: ["T2R_MEMORY_LIMIT": "4K"])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("Error: loading the teacher \(setup.dir)/teacher (4848 parameters as float32) needs about 19.3 kB of memory, "
                                  + "but only 4.0 kB is available (T2R_MEMORY_LIMIT); nothing was allocated"), "\(r.stderr)")
        #expect(!FileSystem.exists("\(setup.dir)/run"), "the refused run created its directory")
    }

    @Test func batchThatDoesNotFitIsRefusedWithTheEstimate() throws {
        let setup = try DistillSetup(steps: 4, checkpointEvery: 0)
        defer { setup.remove() }
        // The models (~22 kB each) fit in 2 MB; 64 sequences of 40 tokens of activations do not.
        let args = setup.args("\(setup.dir)/run", ["--set", "data.batch_size=64", "--set", "data.seq_len=40"])
        let r = try runProcess(T2RBinary.path, args, environment: ["T2R_MEMORY_LIMIT": "2M"])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("Error: training with 64×40 tokens per micro-batch (optimizer moments"), "\(r.stderr)")
        #expect(r.stderr.contains("but only 2.0 MB is available (T2R_MEMORY_LIMIT)"), "\(r.stderr)")
        // The same run with the default batch fits, and so does this one without the limit's stand-in.
        let ok = try runProcess(T2RBinary.path, setup.args("\(setup.dir)/run"), environment: ["T2R_MEMORY_LIMIT": "2M"])
        #expect(ok.status == 0, "\(ok.stderr)")
    }
}

/// Findings that hang (Tests/Fixtures/fuzz/findings.json entries with "replay": "cli"): replayed through
/// `t2r inspect` with a short T2R_HDF5_TIMEOUT, so the test does not wait out the default deadline.
@Suite struct HangingInputCLITests {
    @Test func libhdf5LoopingOnACorruptFileIsStopped() throws {
        let file = Fixtures.fixture("fuzz/hdf5-raw/byteflips-heap-loop.h5")
        let r = try runProcess(T2RBinary.path, ["inspect", file], environment: ["T2R_HDF5_TIMEOUT": "2"])
        #expect(r.status == 65, "\(r.stderr)")
        #expect(r.stderr.contains("libhdf5 did not finish trying to read the structure of `/` within 2 s and was stopped"), "\(r.stderr)")
    }
}
