// Errors of the safetensors reader and writer. Each case carries the file and, where one is
// involved, the tensor; the validation cases mirror huggingface/safetensors `SafeTensorError`
// (safetensors/src/tensor.rs @ 24b0b28), plus duplicate names and sharded-index cross-checks.
import TensorCore

public enum SafetensorsError: T2RError, Equatable {
    case headerTooSmall(file: String, fileSize: Int)
    case headerTooLarge(file: String, headerLength: UInt64)
    case invalidHeaderLength(file: String, headerLength: UInt64, fileSize: Int)
    case invalidHeaderUTF8(file: String)
    case invalidHeaderJSON(file: String, detail: String)
    case duplicateTensorName(file: String, tensor: String)
    case unknownDtype(file: String, tensor: String, dtype: String)
    case invalidMetadata(file: String, detail: String)
    case invalidOffset(file: String, tensor: String)
    case validationOverflow(file: String, tensor: String)
    case misalignedSlice(file: String, tensor: String)
    case tensorInvalidInfo(file: String, tensor: String, expectedBytes: Int, actualBytes: Int)
    case metadataIncompleteBuffer(file: String, expectedSize: Int, fileSize: Int)
    case tensorNotFound(file: String, tensor: String)
    case unsupportedDtype(file: String, tensor: String, dtype: String, wanted: String)
    // Sharded checkpoints (model.safetensors.index.json).
    case invalidIndex(file: String, detail: String)
    case unsafeShardPath(file: String, shard: String)
    case missingShard(file: String, shard: String)
    case tensorMissingFromShard(file: String, tensor: String, shard: String)
    case tensorNotInIndex(file: String, tensor: String, shard: String)
    case tensorInSeveralShards(file: String, tensor: String, shards: [String])
    // Writer.
    case invalidTensorForWriting(file: String, tensor: String, detail: String)

    public var category: ErrorCategory { .badInput }

    public var description: String {
        switch self {
        case let .headerTooSmall(f, n):
            "\(f): header too small: the file has \(n) bytes, a safetensors file needs at least 8 (the header length)"
        case let .headerTooLarge(f, n):
            "\(f): header too large: the header length field says \(n) bytes, the limit is 100000000"
        case let .invalidHeaderLength(f, n, size):
            "\(f): invalid header length: the header length field says \(n) bytes but only \(max(0, size - 8)) follow it"
        case let .invalidHeaderUTF8(f):
            "\(f): invalid UTF-8 in header"
        case let .invalidHeaderJSON(f, d):
            "\(f): invalid JSON in header: \(d)"
        case let .duplicateTensorName(f, t):
            "\(f): tensor `\(t)` appears more than once in the header"
        case let .unknownDtype(f, t, d):
            "\(f): tensor `\(t)` has unknown dtype \"\(d)\" (expected one of \(SafetensorsDType.allCases.map(\.rawValue).joined(separator: ", ")))"
        case let .invalidMetadata(f, d):
            "\(f): invalid __metadata__: \(d)"
        case let .invalidOffset(f, t):
            "\(f): invalid offset for tensor `\(t)`: data_offsets must be contiguous from 0 with begin <= end (a hole, an overlap or a reversed range)"
        case let .validationOverflow(f, t):
            "\(f): overflow computing buffer size from shape and/or element type of tensor `\(t)`"
        case let .misalignedSlice(f, t):
            "\(f): tensor `\(t)` has a sub-byte dtype whose bits do not fill whole bytes"
        case let .tensorInvalidInfo(f, t, e, a):
            "\(f): invalid shape, data type, or offset for tensor `\(t)`: shape × dtype size is \(e) bytes but data_offsets span \(a)"
        case let .metadataIncompleteBuffer(f, e, a):
            "\(f): incomplete metadata, file not fully covered: header and tensors need \(e) bytes, the file has \(a)"
        case let .tensorNotFound(f, t):
            "\(f): tensor `\(t)` not found"
        case let .unsupportedDtype(f, t, d, w):
            "\(f): tensor `\(t)` has dtype \(d), which cannot be read as \(w)"
        case let .invalidIndex(f, d):
            "\(f): invalid sharded-checkpoint index: \(d)"
        case let .unsafeShardPath(f, s):
            "\(f): shard name \"\(s)\" is not a plain file name in the checkpoint directory (no '/', '..' or absolute paths)"
        case let .missingShard(f, s):
            "\(f): shard \(s) named by the index does not exist"
        case let .tensorMissingFromShard(f, t, s):
            "\(f): the index maps tensor `\(t)` to \(s), which does not contain it"
        case let .tensorNotInIndex(f, t, s):
            "\(f): shard \(s) contains tensor `\(t)`, which the index does not map to it"
        case let .tensorInSeveralShards(f, t, s):
            "\(f): tensor `\(t)` appears in several shards: \(s.joined(separator: ", "))"
        case let .invalidTensorForWriting(f, t, d):
            "\(f): cannot write tensor `\(t)`: \(d)"
        }
    }
}
