// Crash safety of `t2r distill`, end to end through the built binary on a tiny synthetic teacher:
// SIGKILL at random moments (many times) then --resume must always find an intact checkpoint, lose at
// most one checkpoint interval, and finish bit-identical to an uninterrupted run (weights and the
// metrics.jsonl numbers, each step logged once); SIGINT/SIGTERM stop after writing a checkpoint; a full
// disk or a read-only run directory fails with a clear error and leaves the earlier checkpoints intact.
import CheckpointIO
import Foundation
import Glibc
import TensorCore
import TestSupport
import Testing

/// A synthetic teacher, its converted student, token files and a recipe, in a fresh directory.
struct DistillSetup {
    let dir: String
    let steps: Int
    let checkpointEvery: Int

    init(steps: Int = 60, checkpointEvery: Int = 2, preset: String = "all", in parent: String? = nil) throws {
        dir = parent.map { "\($0)/setup" } ?? Fixtures.temporaryDirectory("t2r-crash")
        self.steps = steps
        self.checkpointEvery = checkpointEvery
        try SyntheticCheckpoint.write(to: "\(dir)/teacher", vocab: 29, hidden: 16, intermediate: 24, layers: 2, heads: 4, kvHeads: 2, seed: 3)
        // Data are token files, but the teacher needs a tokenizer to load: a two-token BPE will do.
        try writeFileAtomically("\(dir)/teacher/tokenizer.json", text: #"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": []}}"#)
        let c = try T2RBinary.run(["convert", "--teacher", "\(dir)/teacher", "--out", "\(dir)/student", "--num-slots", "4", "--dtype", "f32"])
        guard c.status == 0 else { throw IOFailure(path: dir, operation: "convert the synthetic teacher", reason: c.stderr) }
        var rng = SeededRNG(seed: 17)
        for (name, count) in [("train", 3000), ("valid", 200)] {
            var bytes: [UInt8] = []
            for _ in 0..<count { let t = UInt16(rng.nextInt(below: 29)); bytes += [UInt8(t & 0xFF), UInt8(t >> 8)] }
            try writeFileAtomically("\(dir)/\(name).u16", bytes: bytes)
        }
        try writeFileAtomically(recipe, text: """
            // crash-safety test recipe
            { stage: "end_to_end", teacher: "\(dir)/teacher", student: { init: "\(dir)/student" }, trainable: { preset: "\(preset)" },
              data: { train: ["\(dir)/train.u16"], valid: ["\(dir)/valid.u16"], seq_len: 24, batch_size: 2 },
              loss: { kl: 1, ce: 0.5 }, optimizer: { lr: 0.01, weight_decay: 0.01 }, schedule: { steps: \(steps), warmup_steps: 2 },
              eval: { every: 10, tokens: 64 },
              run: { output: "\(dir)/unused", seed: 1, threads: 1, checkpoint_every: \(checkpointEvery), keep_last: 2 } }
            """)
    }

    var recipe: String { "\(dir)/recipe.json5" }

    /// Deletes the setup (teacher, student, runs).
    func remove() { _ = try? runProcess("/bin/rm", ["-rf", dir]) }

    /// `t2r distill` arguments for a run into `run`.
    func args(_ run: String, resume: Bool = false, _ extra: [String] = []) -> [String] {
        ["distill", recipe, "--set", "run.output=\(run)"] + (resume ? ["--resume"] : []) + extra
    }

    /// Starts `t2r distill` in the background.
    func start(_ run: String, resume: Bool = false, tag: String) throws -> ChildProcess {
        try ChildProcess(T2RBinary.path, args(run, resume: resume), outputPrefix: "\(dir)/\(tag)")
    }

    /// An uninterrupted run into `dir/reference`: how long it took to start (until its first metrics line)
    /// and in all (seconds).
    func reference() throws -> (run: String, seconds: Double, startup: Double) {
        let run = "\(dir)/reference"
        func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
        let t0 = now()
        let child = try start(run, tag: "reference")
        var startup: Double?
        while child.isRunning {
            if startup == nil, (FileSystem.fileSize("\(run)/metrics.jsonl") ?? 0) > 0 { startup = now() - t0 }
            sleepSeconds(0.001)
        }
        guard child.wait() == 0 else { throw IOFailure(path: run, operation: "train the reference", reason: child.stderr) }
        let seconds = now() - t0
        return (run, seconds, startup ?? seconds)
    }
}

/// metrics.jsonl as parsed lines.
func metricsLines(_ run: String) throws -> [JSONValue] {
    try readTextFile("\(run)/metrics.jsonl").split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }
        .map { try JSONParser.parse(String($0)) }
}

/// The numbers of each metrics line that must match an uninterrupted run exactly (no timings), as text.
func deterministicMetrics(_ run: String) throws -> [String] {
    try metricsLines(run).map { l in
        JSONValue.object((l.objectMembers ?? []).filter { !["tokens_per_second", "elapsed_seconds"].contains($0.0) }).serialized()
    }
}

/// Complete checkpoints of a run as (step, directory), oldest first.
func completeCheckpoints(_ run: String) -> [(Int, String)] {
    ((try? FileSystem.listDirectory("\(run)/checkpoints")) ?? []).compactMap { n in
        guard n.hasPrefix("step-"), let s = Int(n.dropFirst(5)), FileSystem.exists("\(run)/checkpoints/\(n)/trainer_state.json") else { return nil }
        return (s, "\(run)/checkpoints/\(n)")
    }.sorted { $0.0 < $1.0 }
}

/// Every file of a checkpoint reads back: the state, the recipe, the weights and the optimizer moments.
func expectIntact(_ checkpoint: String, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        let state = try JSONParser.parse(try readFile("\(checkpoint)/trainer_state.json"))
        #expect(state["step"]?.intValue != nil, sourceLocation: sourceLocation)
        _ = try JSONParser.parse(try readFile("\(checkpoint)/recipe.json"))
        _ = try JSONParser.parse(try readFile("\(checkpoint)/config.json"))
        for f in ["model.safetensors", "optimizer.safetensors"] {
            let s = try SafetensorsFile(path: "\(checkpoint)/\(f)")
            for e in s.entries { _ = try s.loadFloat32(e.name) }
        }
    } catch {
        Issue.record("checkpoint \(checkpoint) is damaged: \(error)", sourceLocation: sourceLocation)
    }
}

/// The run finished and matches the reference bit for bit: final weights and every metrics number.
func expectSameAsReference(_ run: String, _ reference: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    #expect(try readFile("\(run)/final/model.safetensors") == readFile("\(reference)/final/model.safetensors"),
            "final weights differ from the uninterrupted run", sourceLocation: sourceLocation)
    let a = try deterministicMetrics(run), b = try deterministicMetrics(reference)
    let difference = zip(a, b).first { $0 != $1 }.map { "\($0) vs \($1)" } ?? "in length"
    #expect(a == b, "metrics.jsonl differs from the uninterrupted run: \(a.count) vs \(b.count) lines; first difference \(difference)",
            sourceLocation: sourceLocation)
    let leftovers = ((try? FileSystem.listDirectory("\(run)/checkpoints")) ?? []).filter { $0.contains(".tmp-") }
        + ((try? FileSystem.listDirectory(run)) ?? []).filter { $0.contains(".tmp-") }
    #expect(leftovers.isEmpty, "temporary files left: \(leftovers)", sourceLocation: sourceLocation)
}

@Suite(.serialized) struct CrashSafetyCLITests {
    /// ≥ 20 SIGKILLs at random moments (while loading, training, writing metrics or checkpoints, pruning,
    /// writing final/); after each one the newest checkpoint is intact and at most one interval behind.
    @Test func sigkillAtRandomMomentsThenResumeIsBitIdentical() throws {
        let setup = try DistillSetup(steps: 60, checkpointEvery: 2)
        defer { setup.remove() }
        let (reference, seconds, startup) = try setup.reference()
        let stepSeconds = (seconds - startup) / Double(setup.steps)
        let run = "\(setup.dir)/killed"
        var rng = SeededRNG(seed: UInt64(getpid()))
        var kills = 0, attempt = 0
        func loggedSteps() -> Int { (try? metricsLines(run))?.compactMap { $0["loss"] != nil ? $0["step"]?.intValue : nil }.max() ?? 0 }
        while true {
            attempt += 1
            guard attempt < 300 else { Issue.record("no progress after \(attempt) attempts"); return }
            let start = completeCheckpoints(run).last?.0
            let child = try setup.start(run, resume: start != nil, tag: "attempt-\(attempt)")
            if kills < 24 {
                if rng.nextInt(below: 4) == 0 {
                    // Anywhere in the start-up (loading the models, the resume, the first step).
                    sleepSeconds(rng.nextDouble() * startup)
                } else {
                    // After 0–3 more steps, somewhere inside the next step (its metrics line, its checkpoint).
                    let target = (start ?? 0) + rng.nextInt(below: 4)
                    while child.isRunning && loggedSteps() < target { sleepSeconds(0.001) }
                    sleepSeconds(rng.nextDouble() * stepSeconds)
                }
                child.send(SIGKILL)
            }
            let status = child.wait()
            if status == 128 + SIGKILL {
                kills += 1
                if let (step, dir) = completeCheckpoints(run).last {
                    expectIntact(dir)
                    #expect(loggedSteps() - step <= setup.checkpointEvery, "killed at step \(loggedSteps()), newest checkpoint \(step)")
                }
                continue
            }
            #expect(status == 0, "attempt \(attempt) exited \(status): \(child.stderr)")
            if status != 0 { return }
            break
        }
        #expect(kills >= 20, "only \(kills) kills")
        try expectSameAsReference(run, reference)
    }

    /// Ctrl-C (SIGINT) and SIGTERM write a checkpoint of the current step and exit 130; --resume finishes
    /// bit-identically.
    @Test(arguments: [SIGINT, SIGTERM])
    func interruptWritesACheckpointAndStops(_ signal: Int32) throws {
        // Steps take about a millisecond: enough of them that a busy machine cannot finish the run between
        // the fifth metrics line and the signal (40 did, on CI).
        let setup = try DistillSetup(steps: 4000, checkpointEvery: 0)
        defer { setup.remove() }
        let reference = try setup.reference().run
        let run = "\(setup.dir)/interrupted"
        let child = try setup.start(run, tag: "interrupted")
        // Wait until a few steps are logged, then interrupt.
        var waited = 0.0
        while child.isRunning && ((try? metricsLines(run))?.count ?? 0) < 5 && waited < 120 {
            sleepSeconds(0.005)
            waited += 0.005
        }
        child.send(signal)
        let status = child.wait()
        #expect(status == 130, "exit \(status): \(child.stderr)")
        let ckpts = completeCheckpoints(run)
        let step = ckpts.last?.0 ?? -1
        #expect(ckpts.count == 1 && step > 0 && step < setup.steps, "checkpoints after the interrupt: \(ckpts.map(\.0))")
        #expect(child.stdout.contains("interrupted at step \(step); resume with: t2r distill"), "\(child.stdout)")
        if let (_, dir) = ckpts.last { expectIntact(dir) }
        let logged = try metricsLines(run).compactMap { $0["loss"] != nil ? $0["step"]?.intValue : nil }
        #expect(logged.last == step, "the last logged step \(logged.last ?? -1) is not the checkpoint's \(step)")
        let r = try T2RBinary.run(setup.args(run, resume: true))
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("resuming at step \(step) of \(setup.steps)"), "\(r.stderr)")
        try expectSameAsReference(run, reference)
    }

    /// Two trainers cannot share a run directory.
    @Test func secondTrainerOnTheSameRunDirectoryIsRefused() throws {
        let setup = try DistillSetup(steps: 20000, checkpointEvery: 0)  // killed once the second is refused
        defer { setup.remove() }
        let run = "\(setup.dir)/shared"
        let first = try setup.start(run, tag: "first")
        defer { first.send(SIGKILL); first.wait() }
        while first.isRunning && !FileSystem.exists("\(run)/metrics.jsonl") { sleepSeconds(0.005) }
        let second = try T2RBinary.run(setup.args(run))
        #expect(second.status == 1, "\(second.stderr)")
        #expect(second.stderr.contains("another t2r process is training into this run directory"), "\(second.stderr)")
    }

    /// A full disk, as a file-size limit in the child (no root needed: writes fail with EFBIG), reached by
    /// metrics.jsonl part-way: the run stops with an error naming the last complete checkpoint and --resume
    /// (without the limit) finishes bit-identically.
    @Test func fileSizeLimitStopsWithAClearErrorAndResumes() throws {
        // preset "new": the checkpoint files stay under 24 KB; metrics.jsonl (~230 bytes a step) reaches the
        // 28 KB limit after about 120 of the 150 steps.
        let setup = try DistillSetup(steps: 150, checkpointEvery: 5, preset: "new")
        defer { setup.remove() }
        let reference = try setup.reference().run
        let run = "\(setup.dir)/file-size-limit"
        let quoted = setup.args(run).map { "'\($0)'" }.joined(separator: " ")
        let r = try runProcess("/bin/sh", ["-c", "ulimit -f \(28 * 2); trap '' XFSZ; exec '\(T2RBinary.path)' \(quoted)"])
        #expect(r.status == 1, "exit \(r.status): \(r.stderr)")
        #expect(r.stderr.contains("metrics.jsonl") && r.stderr.contains("File too large"), "\(r.stderr)")
        let ckpts = completeCheckpoints(run)
        #expect(ckpts.count == 2, "\(ckpts.map(\.0))")
        if let (_, dir) = ckpts.last { #expect(r.stderr.contains(dir), "the error does not name the last checkpoint \(dir): \(r.stderr)") }
        for (_, d) in ckpts { expectIntact(d) }
        let resumed = try T2RBinary.run(setup.args(run, resume: true))
        #expect(resumed.status == 0, "\(resumed.stderr)")
        try expectSameAsReference(run, reference)
    }

    /// A disk that fills up while a checkpoint is written (a 200 KB tmpfs: two checkpoints and a third being
    /// written do not fit): a clear error naming the last complete checkpoint, nothing half-written left,
    /// the earlier checkpoints intact; with room again, --resume finishes bit-identically.
    @Test(.enabled(if: Scratch.canMount, Comment(rawValue: Scratch.cannotMountReason)))
    func fullDiskDuringACheckpointStopsCleanlyAndResumes() throws {
        let mount = try Scratch.mountTmpfs(size: "200k")
        defer { Scratch.unmount(mount) }
        let setup = try DistillSetup(steps: 60, checkpointEvery: 2)
        defer { setup.remove() }
        let reference = try setup.reference().run
        let run = "\(mount)/run"
        let r = try T2RBinary.run(setup.args(run))
        #expect(r.status == 1, "exit \(r.status): \(r.stderr)")
        #expect(r.stderr.contains("No space left on device") && r.stderr.contains("cannot write the checkpoint"), "\(r.stderr)")
        let ckpts = completeCheckpoints(run)
        #expect(ckpts.count == 2, "\(ckpts.map(\.0))")
        if let (_, dir) = ckpts.last { #expect(r.stderr.contains("The last complete checkpoint is \(dir)"), "\(r.stderr)") }
        for (_, d) in ckpts { expectIntact(d) }
        #expect(((try? FileSystem.listDirectory("\(run)/checkpoints")) ?? []).allSatisfy { !$0.contains(".tmp-") })
        try Scratch.remount(mount, "size=4m")
        let resumed = try T2RBinary.run(setup.args(run, resume: true))
        #expect(resumed.status == 0, "\(resumed.stderr)")
        try expectSameAsReference(run, reference)
    }

    /// A run directory that became read-only (a remount, or chmod when not root): --resume fails with a
    /// clear error and the checkpoint stays intact; once writable again the run finishes bit-identically.
    @Test(.enabled(if: Scratch.canMakeReadOnly, Comment(rawValue: Scratch.cannotMountReason)))
    func readOnlyRunDirectoryFailsClearlyAndKeepsTheCheckpoint() throws {
        let mount = try Scratch.mountTmpfs(size: "8m")
        defer { Scratch.unmount(mount) }
        let setup = try DistillSetup(steps: 40, checkpointEvery: 0)
        defer { setup.remove() }
        let reference = try setup.reference().run
        let run = "\(mount)/run"
        let child = try setup.start(run, tag: "before")
        while child.isRunning && ((try? metricsLines(run))?.count ?? 0) < 5 { sleepSeconds(0.005) }
        child.send(SIGINT)
        #expect(child.wait() == 130, "\(child.stderr)")
        let before = completeCheckpoints(run)
        #expect(before.count == 1)
        let files = try before.map { try FileSystem.listDirectory($0.1).map { f in (f, try readFile("\(before[0].1)/\(f)")) } }
        try Scratch.makeReadOnly(mount, run)
        let r = try T2RBinary.run(setup.args(run, resume: true))
        #expect(r.status == 1, "exit \(r.status): \(r.stderr)")
        #expect(r.stderr.contains(run) && (r.stderr.contains("Read-only file system") || r.stderr.contains("Permission denied")), "\(r.stderr)")
        try Scratch.makeWritable(mount, run)
        #expect(completeCheckpoints(run).map(\.0) == before.map(\.0))
        let after = try before.map { try FileSystem.listDirectory($0.1).map { f in (f, try readFile("\(before[0].1)/\(f)")) } }
        #expect(after.map { $0.map(\.0) } == files.map { $0.map(\.0) } && zip(after, files).allSatisfy { zip($0, $1).allSatisfy { $0.1 == $1.1 } })
        let resumed = try T2RBinary.run(setup.args(run, resume: true))
        #expect(resumed.status == 0, "\(resumed.stderr)")
        try expectSameAsReference(run, reference)
    }
}

/// Small file systems for the disk-full and read-only tests: tmpfs mounts when the tests run as root with
/// the right to mount (else those tests are skipped, with the reason); chmod when not root.
enum Scratch {
    static let isRoot = geteuid() == 0

    /// True when a tmpfs can be mounted here (tried once).
    static let canMount: Bool = {
        guard isRoot, let m = try? mountTmpfs(size: "64k") else { return false }
        unmount(m)
        return true
    }()

    /// Read-only directories: a remount as root, chmod otherwise (root ignores file modes).
    static var canMakeReadOnly: Bool { isRoot ? canMount : true }

    static let cannotMountReason = "needs root with the right to mount a tmpfs (mount -t tmpfs), or a non-root user for chmod"

    /// A fresh directory, with a tmpfs of `size` mounted on it when running as root.
    static func mountTmpfs(size: String) throws -> String {
        let dir = Fixtures.temporaryDirectory("t2r-tmpfs")
        guard isRoot else { return dir }
        let r = try runProcess("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", dir])
        guard r.status == 0 else { throw IOFailure(path: dir, operation: "mount a tmpfs", reason: r.stderr) }
        return dir
    }

    static func remount(_ dir: String, _ options: String) throws {
        let r = try runProcess("/bin/mount", ["-o", "remount,\(options)", dir])
        guard r.status == 0 else { throw IOFailure(path: dir, operation: "remount \(options)", reason: r.stderr) }
    }

    static func unmount(_ dir: String) {
        if isRoot { _ = try? runProcess("/bin/umount", [dir]) }
        _ = try? runProcess("/bin/rm", ["-rf", dir])
    }

    static func makeReadOnly(_ mount: String, _ run: String) throws {
        if isRoot { try remount(mount, "ro") } else { _ = try runProcess("/bin/chmod", ["-R", "a-w", run]) }
    }

    static func makeWritable(_ mount: String, _ run: String) throws {
        if isRoot { try remount(mount, "rw") } else { _ = try runProcess("/bin/chmod", ["-R", "u+w", run]) }
    }
}
