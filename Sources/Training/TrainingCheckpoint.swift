// Training checkpoints: the student (fla layout, float32), the AdamW moments, the trainer state (step,
// sampler epoch/cursor, schedule position) and the resolved recipe, in one directory written under a
// temporary name and renamed into place, so a crash never leaves a half-written checkpoint. The last
// `keepLast` are kept.
import CheckpointIO
import Conversion
import Glibc
import Models
import TensorCore

/// The scalar state of a run at a checkpoint.
public struct TrainerState: Sendable, Equatable {
    public var step: Int
    public var epoch: Int
    public var cursor: Int
    public var tokensSeen: Int
    public var elapsedSeconds: Double
    public var bestValidLoss: Double?
    /// Length of metrics.jsonl (bytes) when the checkpoint was written; a resume cuts the file back to it.
    public var metricsBytes: Int?
    /// The smallest training loss so far (the divergence guard's reference).
    public var minLoss: Double?
    /// Multiplier of the scheduled learning rate (halved, by default, at every divergence rollback).
    public var learningRateScale: Double = 1
    /// Divergence rollbacks so far.
    public var rollbacks: Int = 0
    /// Training tokens of the run (a resume with other data cannot continue the same run).
    public var trainTokens: Int?

    public init(step: Int = 0, epoch: Int = 0, cursor: Int = 0, tokensSeen: Int = 0, elapsedSeconds: Double = 0, bestValidLoss: Double? = nil) {
        self.step = step
        self.epoch = epoch
        self.cursor = cursor
        self.tokensSeen = tokensSeen
        self.elapsedSeconds = elapsedSeconds
        self.bestValidLoss = bestValidLoss
    }

    var json: JSONValue {
        .object([("step", .int(step)), ("epoch", .int(epoch)), ("cursor", .int(cursor)), ("tokens_seen", .int(tokensSeen)),
                 ("elapsed_seconds", .double(elapsedSeconds)), ("best_valid_loss", bestValidLoss.map { .double($0) } ?? .null),
                 ("metrics_bytes", metricsBytes.map { .int($0) } ?? .null), ("min_loss", minLoss.map { .double($0) } ?? .null),
                 ("learning_rate_scale", .double(learningRateScale)), ("rollbacks", .int(rollbacks)),
                 ("train_tokens", trainTokens.map { .int($0) } ?? .null)])
    }

    init(json: JSONValue, file: String) throws {
        func int(_ k: String) throws -> Int {
            guard let i = json[k]?.intValue else { throw TrainingError.corruptCheckpoint(path: file, detail: "missing integer \(k)") }
            return i
        }
        self.init(step: try int("step"), epoch: try int("epoch"), cursor: try int("cursor"), tokensSeen: try int("tokens_seen"),
                  elapsedSeconds: json["elapsed_seconds"]?.doubleValue ?? 0, bestValidLoss: json["best_valid_loss"]?.doubleValue)
        guard step >= 0, epoch >= 0, cursor >= 0, tokensSeen >= 0 else {
            throw TrainingError.corruptCheckpoint(path: file, detail: "negative step, epoch, cursor or tokens_seen")
        }
        // Absent in checkpoints written before these fields existed.
        metricsBytes = json["metrics_bytes"]?.intValue.flatMap { $0 >= 0 ? $0 : nil }
        minLoss = json["min_loss"]?.doubleValue
        learningRateScale = json["learning_rate_scale"]?.doubleValue ?? 1
        rollbacks = json["rollbacks"]?.intValue ?? 0
        trainTokens = json["train_tokens"]?.intValue
        guard learningRateScale > 0, learningRateScale <= 1, rollbacks >= 0 else {
            throw TrainingError.corruptCheckpoint(path: file, detail: "learning_rate_scale must be in (0, 1] and rollbacks ≥ 0")
        }
    }
}

public enum TrainingCheckpoint {
    /// checkpoints/step-00000123
    public static func directoryName(step: Int) -> String {
        let s = String(step)
        return "step-" + String(repeating: "0", count: max(0, 8 - s.count)) + s
    }

    /// Writes a checkpoint for `state.step` under `runDir/checkpoints/` and prunes old ones.
    public static func save(runDir: String, model: StudentModel, optimizer: AdamW, lora: LoRAAdapters? = nil, state: TrainerState,
                            recipe: JSONValue, keepLast: Int) throws -> String {
        let root = FileSystem.join(runDir, "checkpoints")
        let name = directoryName(step: state.step)
        let final = FileSystem.join(root, name)
        // A complete checkpoint of this step exists already (a resumed run that ends where it started): the
        // same weights and state. Keep it rather than remove and rewrite it, which a kill could interrupt.
        if FileSystem.exists(FileSystem.join(final, "trainer_state.json")) { return final }
        let tmp = FileSystem.join(root, ".\(name).tmp-\(getpid())")
        do {
            try FileSystem.createDirectory(root)
            removeTree(tmp)
            try FileSystem.createDirectory(tmp)
            try StudentCheckpoint.save(model, to: tmp, dtype: .F32)
            try saveOptimizer(optimizer, to: FileSystem.join(tmp, "optimizer.safetensors"))
            if let lora {
                try lora.save(to: FileSystem.join(tmp, "lora.safetensors"))
                try saveOptimizer(lora.optimizer, to: FileSystem.join(tmp, "lora_optimizer.safetensors"))
            }
            try writeFileAtomically(FileSystem.join(tmp, "recipe.json"), text: recipe.serialized(indent: 2) + "\n")
            // trainer_state.json last: its presence marks a complete checkpoint.
            try writeFileAtomically(FileSystem.join(tmp, "trainer_state.json"), text: state.json.serialized(indent: 2) + "\n")
            removeTree(final)
            if rename(tmp, final) != 0 {
                throw IOFailure(path: final, operation: "rename the checkpoint into place", reason: String(cString: strerror(errno)))
            }
        } catch {
            // Leave nothing half-written behind; earlier checkpoints are untouched.
            removeTree(tmp)
            let last = try? completeCheckpoints(runDir: runDir).last?.1
            throw TrainingError.checkpointWriteFailed(path: final, step: state.step, reason: "\(error)", lastCheckpoint: last)
        }
        syncDirectory(of: final)
        // Prune: keep the newest `keepLast` complete checkpoints.
        let all = try completeCheckpoints(runDir: runDir)
        for (_, dir) in all.dropLast(max(1, keepLast)) { removeTree(dir) }
        return final
    }

    /// Complete checkpoints (with trainer_state.json), oldest first, as (step, directory).
    public static func completeCheckpoints(runDir: String) throws -> [(Int, String)] {
        let root = FileSystem.join(runDir, "checkpoints")
        guard FileSystem.isDirectory(root) else { return [] }
        var out: [(Int, String)] = []
        for n in try FileSystem.listDirectory(root) where n.hasPrefix("step-") {
            let dir = FileSystem.join(root, n)
            if let step = Int(n.dropFirst(5)), FileSystem.exists(FileSystem.join(dir, "trainer_state.json")) { out.append((step, dir)) }
        }
        return out.sorted { $0.0 < $1.0 }
    }

    static func saveOptimizer(_ optimizer: AdamW, to path: String) throws {
        var entries: [SafetensorsEntry] = []
        for e in optimizer.params.entries {
            guard let (m, v) = optimizer.moments(e.name) else { continue }
            entries.append(SafetensorsEntry(name: "exp_avg." + e.name, tensor: m))
            entries.append(SafetensorsEntry(name: "exp_avg_sq." + e.name, tensor: v))
        }
        try SafetensorsWriter.write(entries, metadata: ["format": "t2r-adamw", "step": String(optimizer.step)], to: path)
    }

    static func loadOptimizer(_ optimizer: AdamW, from path: String, checkpoint dir: String) throws {
        let opt = try SafetensorsFile(path: path)
        for e in optimizer.params.entries {
            guard let (m, v) = optimizer.moments(e.name) else { continue }
            guard opt.info("exp_avg." + e.name) != nil else {
                throw TrainingError.incompatibleResume(path: dir, detail: "no optimizer state for `\(e.name)`: the trainable set changed")
            }
            m.assign(try opt.loadFloat32("exp_avg." + e.name))
            v.assign(try opt.loadFloat32("exp_avg_sq." + e.name))
        }
        guard let adamStep = opt.metadata["step"].flatMap(Int.init) else {
            throw TrainingError.corruptCheckpoint(path: opt.path, detail: "missing the optimizer step")
        }
        optimizer.restore(step: adamStep)
    }

    /// Restores parameters, moments and state from `dir` into `model` / `optimizer` (and LoRA adapters).
    public static func load(_ dir: String, model: StudentModel, optimizer: AdamW, lora: LoRAAdapters? = nil) throws -> (TrainerState, JSONValue) {
        let statePath = FileSystem.join(dir, "trainer_state.json")
        func json(_ path: String) throws -> JSONValue {
            do { return try JSONParser.parse(try readFile(path, limit: FileLimits.json)) } catch let e as JSONParseError {
                throw TrainingError.corruptCheckpoint(path: path, detail: "not valid JSON: \(e)")
            }
        }
        let state = try TrainerState(json: try json(statePath), file: statePath)
        let saved = try StudentCheckpoint.open(dir)
        guard saved.config == model.config || sameArchitecture(saved.config, model.config) else {
            throw TrainingError.incompatibleResume(path: dir, detail: "the checkpoint's student architecture differs from the recipe's")
        }
        for t in StudentTensor.all(for: model.config) { model.value(t).assign(try saved.store.loadFloat32(t.flaName)) }
        try loadOptimizer(optimizer, from: FileSystem.join(dir, "optimizer.safetensors"), checkpoint: dir)
        if let lora {
            let p = FileSystem.join(dir, "lora.safetensors")
            guard FileSystem.exists(p) else { throw TrainingError.incompatibleResume(path: dir, detail: "the checkpoint has no LoRA adapters") }
            try lora.load(from: p)
            try loadOptimizer(lora.optimizer, from: FileSystem.join(dir, "lora_optimizer.safetensors"), checkpoint: dir)
        }
        let recipe = try json(FileSystem.join(dir, "recipe.json"))
        return (state, recipe)
    }

    static func sameArchitecture(_ a: GSAConfig, _ b: GSAConfig) -> Bool {
        var a2 = a, b2 = b
        a2.dtype = ""
        b2.dtype = ""
        return a2 == b2
    }
}

/// rm -rf for a directory t2r created itself (no symlink following outside it).
func removeTree(_ path: String) {
    guard FileSystem.exists(path) else { return }
    if FileSystem.isDirectory(path) {
        for n in (try? FileSystem.listDirectory(path)) ?? [] { removeTree(FileSystem.join(path, n)) }
        rmdir(path)
    } else {
        unlink(path)
    }
}
