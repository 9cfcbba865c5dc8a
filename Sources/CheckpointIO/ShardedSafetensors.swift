// Sharded safetensors checkpoints: `model.safetensors.index.json` maps every tensor name to a shard
// file in the same directory. The index is cross-checked against the shards both ways: every mapped
// tensor must be in its shard, and every shard tensor must be mapped to that shard.
import TensorCore

public final class ShardedSafetensors: TensorStore, @unchecked Sendable {
    public let path: String
    public let shards: [String: SafetensorsFile]
    /// Tensor name -> shard file name, in index order.
    public let weightMap: [(String, String)]
    public let metadata: [String: String]
    public let warnings: [String]
    private let lookup: [String: String]

    /// Opens `indexPath` and every shard it names.
    public init(indexPath: String) throws {
        path = indexPath
        let dir = FileSystem.directoryName(indexPath)
        let json: JSONValue
        do {
            json = try JSONParser.parse(try readFile(indexPath, limit: FileLimits.json))
        } catch let e as JSONParseError {
            throw SafetensorsError.invalidIndex(file: indexPath, detail: "not valid JSON: \(e)")
        }
        guard let map = json["weight_map"]?.objectMembers else {
            throw SafetensorsError.invalidIndex(file: indexPath, detail: "missing object \"weight_map\"")
        }
        var meta: [String: String] = [:]
        if let m = json["metadata"] {
            guard let members = m.objectMembers else {
                throw SafetensorsError.invalidIndex(file: indexPath, detail: "\"metadata\" is \(m.typeNameWithArticle), expected an object")
            }
            for (k, v) in members { meta[k] = v.stringValue ?? v.serialized() }
        }
        metadata = meta
        var wm: [(String, String)] = []
        var lookup: [String: String] = [:]
        for (name, v) in map {
            guard let shard = v.stringValue else {
                throw SafetensorsError.invalidIndex(file: indexPath, detail: "weight_map[\"\(name)\"] is \(v.typeNameWithArticle), expected a file name")
            }
            guard ShardedSafetensors.isSafeFileName(shard) else {
                throw SafetensorsError.unsafeShardPath(file: indexPath, shard: shard)
            }
            wm.append((name, shard))
            lookup[name] = shard
        }
        weightMap = wm
        self.lookup = lookup
        var opened: [String: SafetensorsFile] = [:]
        for shard in Set(wm.map(\.1)).sorted() {
            let p = FileSystem.join(dir, shard)
            guard FileSystem.exists(p) else { throw SafetensorsError.missingShard(file: indexPath, shard: shard) }
            opened[shard] = try SafetensorsFile(path: p)
        }
        shards = opened
        // index -> shards
        for (name, shard) in wm where opened[shard]?.info(name) == nil {
            throw SafetensorsError.tensorMissingFromShard(file: indexPath, tensor: name, shard: shard)
        }
        // shards -> index
        for (shard, f) in opened.sorted(by: { $0.key < $1.key }) {
            for e in f.entries where lookup[e.name] != shard {
                if lookup[e.name] != nil {
                    throw SafetensorsError.tensorInSeveralShards(file: indexPath, tensor: e.name, shards: [lookup[e.name]!, shard].sorted())
                }
                throw SafetensorsError.tensorNotInIndex(file: indexPath, tensor: e.name, shard: shard)
            }
        }
        var warn: [String] = []
        if let ts = json["metadata"]?["total_size"], let declared = ts.intValue {
            let actual = opened.values.reduce(0) { $0 + $1.totalBytes }
            if declared != actual {
                warn.append("\(indexPath): metadata.total_size is \(declared) but the tensors hold \(actual) bytes")
            }
        }
        warnings = warn
    }

    /// True for a plain file name: no directory separators, not "." or "..", not empty.
    public static func isSafeFileName(_ s: String) -> Bool {
        !s.isEmpty && s != "." && s != ".." && !s.contains("/") && !s.contains("\\") && !s.contains("\0")
    }

    public var tensorInfos: [TensorInfo] { weightMap.compactMap { shards[$0.1]?.info($0.0) } }

    public func info(_ name: String) -> TensorInfo? {
        guard let s = lookup[name] else { return nil }
        return shards[s]?.info(name)
    }

    /// The shard holding `name`.
    public func shard(for name: String) throws -> SafetensorsFile {
        guard let s = lookup[name], let f = shards[s] else { throw SafetensorsError.tensorNotFound(file: path, tensor: name) }
        return f
    }

    public func loadFloat32(_ name: String) throws -> Tensor { try shard(for: name).loadFloat32(name) }
}

extension ShardedSafetensors: RawTensorAccess {
    public func rawTensor(_ name: String) throws -> (dtype: SafetensorsDType, bytes: UnsafeRawBufferPointer, file: MappedFile, offset: Int)? {
        try shard(for: name).rawTensor(name)
    }
}
