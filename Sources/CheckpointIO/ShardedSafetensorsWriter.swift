// Writes a checkpoint as transformers does: one `model.safetensors`, or, above `maxShardBytes`,
// shards `model-00001-of-0000N.safetensors` plus `model.safetensors.index.json` (metadata.total_size =
// tensor bytes, weight_map name → shard). Tensors stay in the given order; a tensor larger than the
// limit gets a shard of its own. Every file is written atomically; the index last.
import TensorCore

public enum ShardedSafetensorsWriter {
    /// Writes `entries` into `directory`; returns the file names written (the index last, if any).
    @discardableResult
    public static func write(_ entries: [SafetensorsEntry], to directory: String, maxShardBytes: Int,
                             metadata: [String: String] = ["format": "pt"], directIO: Bool = false,
                             progress: (String, Int, Int) -> Void = { _, _, _ in }) throws -> [String] {
        var shards: [[Int]] = [[]]
        var current = 0
        for (i, e) in entries.enumerated() {
            guard let b = e.byteCount else {
                throw SafetensorsError.invalidTensorForWriting(file: directory, tensor: e.name, detail: "shape × dtype is not a whole number of bytes")
            }
            if !shards[shards.count - 1].isEmpty && current + b > maxShardBytes {
                shards.append([])
                current = 0
            }
            shards[shards.count - 1].append(i)
            current += b
        }
        if shards.count == 1 {
            progress("model.safetensors", 1, 1)
            try SafetensorsWriter.write(entries, metadata: metadata, to: FileSystem.join(directory, "model.safetensors"), directIO: directIO)
            return ["model.safetensors"]
        }
        var files: [String] = []
        var weightMap: [(String, JSONValue)] = []
        var total = 0, params = 0
        for (k, idx) in shards.enumerated() {
            let name = "model-\(pad5(k + 1))-of-\(pad5(shards.count)).safetensors"
            progress(name, k + 1, shards.count)
            try SafetensorsWriter.write(idx.map { entries[$0] }, metadata: metadata, to: FileSystem.join(directory, name), directIO: directIO)
            for i in idx {
                weightMap.append((entries[i].name, .string(name)))
                total += entries[i].byteCount!
                params += Shape.elementCount(entries[i].shape) ?? 0
            }
            files.append(name)
        }
        weightMap.sort { $0.0 < $1.0 }
        let index = JSONValue.object([
            ("metadata", .object([("total_parameters", .int(params)), ("total_size", .int(total))])),
            ("weight_map", .object(weightMap)),
        ])
        try writeFileAtomically(FileSystem.join(directory, "model.safetensors.index.json"), text: index.serialized(indent: 2) + "\n")
        files.append("model.safetensors.index.json")
        return files
    }

    private static func pad5(_ n: Int) -> String {
        let s = String(n)
        return String(repeating: "0", count: max(0, 5 - s.count)) + s
    }
}
